"""Readings as tests need them: a partner hospital with a reading centre and its readers
(approved doctors of that hospital), a requesting doctor with a visit, and a study sent
through the multipart API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom.data
from litestar import Litestar

from medmarket.consults.tests.helpers import Visit, booked_visit, call, notifications, ok
from medmarket.tests.support.factories import HospitalHandle
from medmarket.tests.support.seed import Doctor, approved_doctor, hospital

__all__ = ["Visit", "call", "notifications", "ok"]

TARGETS = {"routine": 24 * 60, "urgent": 4 * 60, "emergency": 30}
QUESTION = "胸痛 2 小时，排除主动脉夹层"


def ct_small() -> bytes:
    """A real CT slice pydicom ships in its wheel (no download)."""
    return Path(pydicom.data.get_testdata_file("CT_small.dcm") or "").read_bytes()


@dataclass
class Centre:
    id: str
    hospital: HospitalHandle
    readers: list[Doctor]

    @property
    def admin(self) -> Any:
        return self.hospital.admin


async def reading_centre(app: Litestar, *, kind: str = "imaging", readers: int = 1) -> Centre:
    """A partner hospital's centre with ``readers`` approved doctors of that hospital."""
    partner = await hospital(app)
    centre = await ok(
        app,
        "POST",
        "/api/reading-centres",
        partner.admin,
        {"hospital_id": partner.id, "kind": kind, "name": f"{kind} 阅片中心", "targets": TARGETS},
    )
    doctors = []
    for _ in range(readers):
        doctor = await approved_doctor(app, hospital=partner, publish_days=None)
        await ok(
            app,
            "POST",
            f"/api/reading-centres/{centre['id']}/readers",
            partner.admin,
            {"doctor_id": doctor.id},
        )
        doctors.append(doctor)
    return Centre(id=centre["id"], hospital=partner, readers=doctors)


async def requester_visit(app: Litestar) -> Visit:
    """A township doctor's paid visit: its patient is theirs to send a study of."""
    return await booked_visit(app)


def form(centre: Centre, visit: Visit, **changes: Any) -> dict[str, str]:
    fields = {
        "centre_id": centre.id,
        "booking_id": visit.booking_id,
        "kind": "imaging",
        "urgency": "urgent",
        "question": QUESTION,
        "consent": "true",
        **changes,
    }
    return {name: str(value) for name, value in fields.items() if value is not None}


async def send(
    app: Litestar,
    centre: Centre,
    visit: Visit,
    study: list[tuple[str, bytes, str]] | None = None,
    **changes: Any,
) -> Any:
    """POST the study (files as (name, bytes, type)); returns the response."""
    files = [("files", item) for item in (study or [("ct.dcm", ct_small(), "application/dicom")])]
    return await call(
        app, "POST", "/api/readings", visit.doctor, data=form(centre, visit, **changes), files=files
    )


async def sent(app: Litestar, centre: Centre, visit: Visit, **changes: Any) -> dict[str, Any]:
    response = await send(app, centre, visit, **changes)
    assert response.status_code == 201, response.text
    reading: dict[str, Any] = response.json()
    return reading
