"""Consultations as tests need them: a booking held and paid through the API (the gateway is
localstripe), its visit moved to the time a test needs."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar

from medmarket.audit.service import SYSTEM
from medmarket.bookings.listeners import BOOKING_LISTENERS
from medmarket.bookings.payments import confirm_paid
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import (
    PRIOR,
    Doctor,
    Patient,
    approved_doctor,
    expect,
    free_slots,
    move_visit,
    pay,
    ready_patient,
)


@dataclass
class Visit:
    doctor: Doctor
    patient: Patient
    booking_id: str
    consultation_id: str
    payment_id: str

    @property
    def path(self) -> str:
        return f"/api/consultations/{self.consultation_id}"


async def confirm_payment(app: Litestar, booking_id: str) -> None:
    """What a successful payment does to its booking, once more (the payments domain calls
    this in the transaction that records the payment)."""
    services = app.state.services
    async with services.db.transaction() as connection:
        listeners = services.ports.collect(BOOKING_LISTENERS)
        assert await confirm_paid(connection, uuid.UUID(booking_id), SYSTEM, listeners)


async def booked_visit(
    app: Litestar,
    *,
    doctor: Doctor | None = None,
    patient: Patient | None = None,
    patient_id: str | None = None,
    starts_in: dt.timedelta | None = dt.timedelta(minutes=-5),
) -> Visit:
    """A paid booking and its consultation. The visit starts ``starts_in`` from now (default:
    it began five minutes ago); None leaves it at its slot, hours ahead."""
    doctor = doctor or await approved_doctor(app)
    patient = patient or await ready_patient(app)
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[0]
        booking = await expect(
            http.post(
                "/api/bookings",
                headers=patient.headers,
                json={
                    "slot_id": slot["id"],
                    "patient_id": patient_id or patient.id,
                    "prior_diagnosis": PRIOR,
                },
            ),
            201,
        )
        payment = await pay(app, patient, booking["id"])
        if starts_in is not None:
            await move_visit(app, booking["id"], starts_in)
        confirmed = await expect(
            http.get(f"/api/bookings/{booking['id']}", headers=patient.headers)
        )
    assert confirmed["status"] == "confirmed" and confirmed["consultation_id"]
    return Visit(doctor, patient, booking["id"], confirmed["consultation_id"], payment["id"])


async def refunded(app: Litestar, visit: Visit) -> list[int]:
    """The amounts refunded (or being refunded) for the visit's payment."""
    refunds = await ok(app, "GET", f"/api/payments/{visit.payment_id}/refunds", visit.patient)
    return [refund["amount"]["amount"] for refund in refunds]


async def call(
    app: Litestar,
    method: str,
    path: str,
    who: Doctor | Patient | Any,
    json: Any = None,
    **kwargs: Any,
) -> httpx.Response:
    async with client_for(app) as http:
        return await http.request(method, path, json=json, headers=who.headers, **kwargs)


async def ok(
    app: Litestar,
    method: str,
    path: str,
    who: Doctor | Patient | Any,
    json: Any = None,
    **kwargs: Any,
) -> Any:
    response = await call(app, method, path, who, json, **kwargs)
    assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


async def notifications(app: Litestar, template: str, user_id: str) -> list[dict[str, Any]]:
    rows = await app.state.services.db.fetch(
        "SELECT payload FROM outbox WHERE topic = 'notification.send' "
        "AND payload->>'template' = $1 AND payload->'recipient'->>'user_id' = $2",
        template,
        user_id,
    )
    return [row["payload"] for row in rows]


async def actions(app: Litestar, consultation_id: str) -> list[str]:
    rows = await app.state.services.db.fetch(
        # As the operators' trace reads it: the consultation's events and its booking's.
        "SELECT a.action FROM audit_events a, consultations c WHERE c.id = $1 "
        "AND (a.consultation_id = c.id OR a.subject_type = 'booking' "
        "AND a.subject_id = c.booking_id::text) ORDER BY a.id",
        uuid.UUID(consultation_id),
    )
    return [row["action"] for row in rows]
