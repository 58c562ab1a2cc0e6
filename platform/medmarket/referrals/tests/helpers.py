"""Referrals as tests need them: a partner hospital that takes referrals (the demo adapter
with a cardiology referral clinic open every day), a visit under way, and the referral's
steps through the API; the outbox delivered as the worker would."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Litestar

from medmarket.consults.tests.helpers import Visit, booked_visit, call, notifications, ok
from medmarket.tests.support.factories import (
    DEMO_ADAPTER,
    HospitalHandle,
    hospital_with_demo_adapter,
)
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.payments import deliver_outbox

__all__ = ["Visit", "booked_visit", "call", "deliver_outbox", "notifications", "ok"]

EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]
CLINIC: dict[str, Any] = {
    "department": "心内科",
    "place": "门诊楼 3 层 心内科转诊门诊",
    "weekdays": EVERY_DAY,
    "times": ["09:00", "14:00"],
    "places_per_time": 3,
    "days_ahead": 14,
    "instructions": "请空腹",
}
DETAILS: dict[str, Any] = {
    "department": "心内科",
    "urgency": "routine",
    "reason": "胸痛待查，需冠脉造影",
    "clinical_summary": "男，58 岁。活动后胸痛 2 周，心电图 ST 段压低。",
}


async def receiving_hospital(
    app: Litestar,
    *,
    clinics: Sequence[dict[str, Any]] = (CLINIC,),
    departments: Sequence[str] = ("心内科", "神经内科"),
) -> HospitalHandle:
    """A partner hospital whose demo system takes referrals from its calendar."""
    hospital = await hospital_with_demo_adapter(app, departments=departments)
    async with client_for(app) as http:
        response = await http.put(
            f"/api/hospitals/{hospital.id}/adapter",
            headers=hospital.admin.headers,
            json={
                "type": DEMO_ADAPTER,
                "config": {
                    "hospital_code": hospital.hospital_code,
                    "staff": [],
                    "referral_clinics": list(clinics),
                },
            },
        )
        assert response.status_code == 200, response.text
    return hospital


async def visit_under_way(app: Litestar) -> Visit:
    visit = await booked_visit(app)
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    return visit


async def refer(
    app: Litestar, visit: Visit, hospital: HospitalHandle, **changes: Any
) -> dict[str, Any]:
    body = {**DETAILS, "booking_id": visit.booking_id, "hospital_id": hospital.id, **changes}
    referral: dict[str, Any] = await ok(app, "POST", "/api/referrals", visit.doctor, body)
    return referral


async def consent(app: Litestar, visit: Visit, referral: dict[str, Any]) -> dict[str, Any]:
    agreed: dict[str, Any] = await ok(
        app, "POST", f"/api/referrals/{referral['id']}/consent", visit.patient
    )
    return agreed


async def read(app: Litestar, who: Any, referral: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = await ok(app, "GET", f"/api/referrals/{referral['id']}", who)
    return found


async def referred_and_sent(
    app: Litestar, visit: Visit, hospital: HospitalHandle, **changes: Any
) -> dict[str, Any]:
    """Referred, agreed to and sent: the hospital's answer applied."""
    referral = await refer(app, visit, hospital, **changes)
    await consent(app, visit, referral)
    await deliver_outbox(app)
    return await read(app, visit.doctor, referral)


async def audit_actions(app: Litestar, referral_id: str) -> list[str]:
    rows = await app.state.services.db.fetch(
        "SELECT action FROM audit_events WHERE subject_type = 'referral' AND subject_id = $1 "
        "ORDER BY id",
        referral_id,
    )
    return [row["action"] for row in rows]
