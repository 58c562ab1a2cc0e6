"""Prescriptions as tests need them: a visit in progress (a paid booking, the patient
admitted), a prescription body of drugs from the seed catalog, and the clock moved for one
prescription."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from litestar import Litestar

from medmarket.consults.tests.helpers import Visit, booked_visit, call, ok
from medmarket.db import Connection, fetch_one
from medmarket.drugs.seed import seed_id
from medmarket.prescriptions.document import prescription_document, read_document
from medmarket.tests.support.seed import Doctor, Patient

AMLODIPINE = str(seed_id("amlodipine-tab-5mg"))
METFORMIN = str(seed_id("metformin-tab-0.5g"))
MORPHINE = str(seed_id("morphine-tab-10mg"))

__all__ = ["Visit", "call", "ok"]


def item(**changes: Any) -> dict[str, Any]:
    """Amlodipine 5 mg once a day for a week: nothing any rule should object to."""
    body: dict[str, Any] = {
        "drug_id": AMLODIPINE,
        "dose": "5",
        "dose_unit": "mg",
        "route": "oral",
        "frequency": "qd",
        "duration_days": 7,
        "quantity": "7",
        "quantity_unit": "tablet",
        "instructions": "早餐后服用",
    }
    body.update(changes)
    return body


def prescription(*items: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"diagnosis": "原发性高血压 2 级", "items": list(items) or [item()]}
    body.update(changes)
    return body


async def visit_in_progress(
    app: Litestar,
    *,
    doctor: Doctor | None = None,
    patient: Patient | None = None,
    patient_id: str | None = None,
) -> Visit:
    """A paid visit that began five minutes ago, the patient admitted by the doctor."""
    visit = await booked_visit(app, doctor=doctor, patient=patient, patient_id=patient_id)
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    return visit


async def prescribe(app: Litestar, visit: Visit, body: dict[str, Any] | None = None) -> Any:
    return await ok(
        app, "POST", visit.path + "/prescriptions", visit.doctor, body or prescription()
    )


async def move_back(connection: Connection, prescription_id: str, by: dt.timedelta) -> None:
    """Make a prescription as if written ``by`` earlier (days, dates and document), as the
    migrating user with the triggers off: the application could never do this."""
    row = await fetch_one(
        connection, "SELECT document FROM prescriptions WHERE id = $1", uuid.UUID(prescription_id)
    )
    content = read_document(row["document"])
    days = dt.timedelta(days=by.days)
    moved = msgspec.structs.replace(
        content,
        written_at=content.written_at - by,
        expires_at=content.expires_at - days,
        valid_from=content.valid_from - days,
        valid_until=content.valid_until - days,
    )
    async with connection.transaction():
        await connection.execute("SET LOCAL session_replication_role = replica")
        await connection.execute(
            """
            UPDATE prescriptions
               SET written_at = $2, status_changed_at = $2, expires_at = $3, valid_from = $4,
                   valid_until = $5, document = $6
             WHERE id = $1
            """,
            uuid.UUID(prescription_id),
            moved.written_at,
            moved.expires_at,
            moved.valid_from,
            moved.valid_until,
            prescription_document(moved),
        )
