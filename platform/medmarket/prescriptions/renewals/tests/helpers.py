"""Renewals as tests need them: a chronic follow-up prescription of a completed visit whose
doctor renews prescriptions, a renewal request paid through the API (the gateway is
localstripe), and the clock moved for one request."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Litestar

from medmarket.db import Connection
from medmarket.prescriptions.tests.helpers import (
    Visit,
    call,
    move_back,
    ok,
    prescribe,
    prescription,
    visit_in_progress,
)
from medmarket.tests.support.seed import Doctor, Patient, pay, ready_patient

PROFILE = {
    "allergies": [],
    "chronic_conditions": ["原发性高血压"],
    "current_medications": ["氨氯地平 5mg qd"],
}
PRICE_FEN = 3000
NOTE = "血压稳定，130/80 左右，无不适"

__all__ = ["call", "move_back", "ok"]


@dataclass
class Earlier:
    """A prescription written in a completed visit, and who wrote it for whom."""

    visit: Visit
    prescription: dict[str, Any]

    @property
    def doctor(self) -> Doctor:
        return self.visit.doctor

    @property
    def patient(self) -> Patient:
        return self.visit.patient

    @property
    def id(self) -> str:
        return str(self.prescription["id"])

    @property
    def renewals(self) -> str:
        return f"/api/prescriptions/{self.id}/renewals"


async def offer_renewals(app: Litestar, doctor: Doctor, price_fen: int = PRICE_FEN) -> None:
    await ok(app, "PUT", "/api/doctor/offerings/renewal", doctor, {"price_fen": price_fen})


async def earlier_prescription(
    app: Litestar,
    *,
    chronic_follow_up: bool = True,
    profile: dict[str, Any] | None = PROFILE,
    offered: bool = True,
    doctor: Doctor | None = None,
    patient: Patient | None = None,
) -> Earlier:
    """A prescription (chronic follow-up unless told) of a visit that was completed, by a
    doctor who renews prescriptions (unless ``offered`` is False), for a patient with a
    chronic condition on record (unless ``profile`` is None)."""
    patient = patient or await ready_patient(app)
    if profile is not None:
        await ok(app, "PUT", f"/api/patients/{patient.id}/health", patient, profile)
    visit = await visit_in_progress(app, doctor=doctor, patient=patient)
    written = await prescribe(
        app, visit, prescription(chronic_follow_up=chronic_follow_up, valid_days=3)
    )
    await ok(app, "POST", visit.path + "/end", visit.doctor, {"outcome": "completed"})
    if offered:
        await offer_renewals(app, visit.doctor)
    return Earlier(visit, written)


async def visit_long_ago(superuser: Connection, earlier: Earlier, by: dt.timedelta) -> None:
    """Move the visit and its prescription ``by`` into the past (its writing window long
    closed), as the migrating user: the application could never do this."""
    await move_back(superuser, earlier.id, by)
    async with superuser.transaction():
        await superuser.execute("SET LOCAL session_replication_role = replica")
        await superuser.execute(
            "UPDATE consultations SET ended_at = ended_at - $2::interval WHERE id = $1",
            uuid.UUID(earlier.visit.consultation_id),
            by,
        )


async def requested(app: Litestar, earlier: Earlier, note: str = NOTE) -> dict[str, Any]:
    renewal: dict[str, Any] = await ok(
        app, "POST", earlier.renewals, earlier.patient, {"note": note}
    )
    return renewal


async def pay_for(
    app: Litestar, earlier: Earlier, renewal: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pay for the request as the patient's browser does; (the request now, the payment)."""
    payment = await pay(app, earlier.patient, renewal["id"], purpose="prescription_renewal")
    now = await ok(app, "GET", f"/api/renewals/{renewal['id']}", earlier.patient)
    return now, payment


async def paid_request(app: Litestar, earlier: Earlier) -> tuple[dict[str, Any], dict[str, Any]]:
    """A renewal request paid for; (the request as it is now, the payment)."""
    return await pay_for(app, earlier, await requested(app, earlier))


async def answer_overdue(
    superuser: Connection, renewal_id: str, by: dt.timedelta = dt.timedelta(hours=1)
) -> None:
    """Make the request's answer due ``by`` ago (paid a day and that much earlier)."""
    async with superuser.transaction():
        await superuser.execute("SET LOCAL session_replication_role = replica")
        await superuser.execute(
            "UPDATE prescription_renewals "
            "SET paid_at = paid_at - (answer_due_at - now()) - $2::interval, "
            "answer_due_at = now() - $2::interval WHERE id = $1",
            uuid.UUID(renewal_id),
            by,
        )


async def refunds_of(app: Litestar, payment: dict[str, Any], who: Patient) -> list[Any]:
    found: list[Any] = await ok(app, "GET", f"/api/payments/{payment['id']}/refunds", who)
    return found


async def trail(app: Litestar, renewal_id: str) -> list[str]:
    """The renewal's audit events, oldest first, with its payment's."""
    rows = await app.state.services.db.fetch(
        """
        SELECT a.action FROM audit_events a
         WHERE a.subject_type = 'prescription_renewal' AND a.subject_id = $1
            OR a.subject_type = 'payment' AND a.subject_id IN (
                   SELECT p.id::text FROM payments p
                    WHERE p.purpose = 'prescription_renewal' AND p.subject_id::text = $1)
         ORDER BY a.id
        """,
        renewal_id,
    )
    return [row["action"] for row in rows]


async def notified(app: Litestar, template: str, user_id: str) -> list[dict[str, Any]]:
    rows = await app.state.services.db.fetch(
        "SELECT payload FROM outbox WHERE topic = 'notification.send' "
        "AND payload->>'template' = $1 AND payload->'recipient'->>'user_id' = $2",
        template,
        user_id,
    )
    return [row["payload"] for row in rows]
