"""Remote consultations as tests need them: a requesting doctor with a patient of their
visit under way (and a file shared in it), experts, a case opened through the API, and what
was audited and told."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from litestar import Litestar

from medmarket.consults.tests.helpers import Visit, call, notifications, ok
from medmarket.referrals.tests.helpers import visit_under_way
from medmarket.tests.support.factories import PDF_BYTES
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import Doctor, approved_doctor

__all__ = ["Visit", "call", "notifications", "ok", "visit_under_way"]

API = "/api/remote-consultations"


def times(*days: int) -> list[str]:
    """Whole hours ``days`` from now, as the API reads them."""
    base = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return [(base + dt.timedelta(days=day)).isoformat() for day in days]


def same_time(left: str, right: str) -> bool:
    return dt.datetime.fromisoformat(left) == dt.datetime.fromisoformat(right)


CONSENT: dict[str, Any] = {"given": True, "how": "verbal_in_person", "witnessed_by": "护士 李芳"}


def case_body(visit: Visit, experts: list[Doctor], **changes: Any) -> dict[str, Any]:
    return {
        "patient_id": visit.patient.id,
        "consent": CONSENT,
        "question": "冠脉三支病变，介入还是搭桥？",
        "clinical_history": "男，66 岁。不稳定型心绞痛 1 月，糖尿病 10 年，冠脉造影示三支病变。",
        "urgency": "urgent",
        "proposed_times": times(1, 2),
        "expert_ids": [expert.id for expert in experts],
        **changes,
    }


async def experts(app: Litestar, count: int) -> list[Doctor]:
    specialties = [("心内科",), ("心外科",), ("影像科",)]
    return [
        await approved_doctor(app, specialties=specialties[index % 3]) for index in range(count)
    ]


async def upload(app: Litestar, visit: Visit, name: str, content: bytes = PDF_BYTES) -> Any:
    async with client_for(app) as http:
        response = await http.post(
            visit.path + "/attachments",
            headers=visit.patient.headers,
            files={"file": (name, io.BytesIO(content), "application/octet-stream")},
        )
    assert response.status_code == 201, response.text
    return response.json()["attachment"]


async def open_case(
    app: Litestar, visit: Visit, invited: list[Doctor], **changes: Any
) -> dict[str, Any]:
    response = await call(app, "POST", API, visit.doctor, case_body(visit, invited, **changes))
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


def invitation_of(case: dict[str, Any], expert: Doctor) -> str:
    [found] = [i["id"] for i in case["invitations"] if i["expert"]["id"] == expert.id]
    return str(found)


async def answer(
    app: Litestar, case: dict[str, Any], expert: Doctor, step: str, body: dict[str, Any]
) -> Any:
    path = f"{API}/{case['id']}/invitations/{invitation_of(case, expert)}/{step}"
    return await call(app, "POST", path, expert, body)


async def audit_actions(app: Litestar, case_id: str) -> list[str]:
    rows = await app.state.services.db.fetch(
        "SELECT action FROM audit_events WHERE subject_type = 'remote_consultation' "
        "AND subject_id = $1 ORDER BY id",
        case_id,
    )
    return [row["action"] for row in rows]
