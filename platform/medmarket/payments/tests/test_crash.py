"""The app process is killed (SIGKILL) at each dangerous point, many times, while clients
keep retrying and send every request twice at once; localstripe sends webhooks into the
chaos. After reconciliation every payable has exactly one successful charge at the gateway
and in our books: none lost, none doubled.

The payables are held bookings: each paid booking must end confirmed, with exactly one
charge, heard of by the booking exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket.payments.reconcile import Reconciler
from medmarket.payments.service import Payments
from medmarket.settings import Settings
from medmarket.tests.support.crashing import RETRYABLE, CrashingServer, pay_until_paid
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.payments import STRIPE_WEBHOOK_SECRET, LocalStripe
from medmarket.tests.support.seed import (
    PRIOR,
    Patient,
    approved_doctor,
    expect,
    free_slots,
    ready_patient,
)

pytestmark = pytest.mark.slow

CRASH_POINTS = [
    "payments.create.before_gateway_call",
    "payments.create.after_gateway_call",
    "payments.create.after_commit",
    "payments.confirm.before_gateway_call",
    "payments.confirm.after_gateway_call",
    "payments.confirm.after_commit",
]
KILLS_PER_POINT = 4


class HeldBookings:
    """Held bookings of one patient, one per free slot of a doctor, as payables."""

    def __init__(self, app: Litestar, patient: Patient, slots: list[dict[str, Any]]) -> None:
        self.app, self.patient, self.slots = app, patient, iter(slots)

    async def new(self) -> uuid.UUID:
        async with client_for(self.app) as http:
            booking = await expect(
                http.post(
                    "/api/bookings",
                    headers=self.patient.headers,
                    json={
                        "slot_id": next(self.slots)["id"],
                        "patient_id": self.patient.id,
                        "prior_diagnosis": PRIOR,
                    },
                ),
                201,
            )
        return uuid.UUID(booking["id"])


async def check_exactly_one_charge(
    app: Litestar, localstripe: LocalStripe, subjects: list[uuid.UUID]
) -> None:
    db = app.state.services.db
    intents = await localstripe.all("/v1/payment_intents")
    charges = await localstripe.all("/v1/charges")
    for subject in subjects:
        mine = [i for i in intents if i["metadata"].get("subject_id") == str(subject)]
        charged = [i for i in mine if i["status"] == "succeeded"]
        assert len(charged) == 1, (subject, [i["status"] for i in mine])
        # Any other intent a crash left behind is closed: it can never charge later.
        assert {i["status"] for i in mine} <= {"succeeded", "canceled"}, mine
        succeeded_charges = [
            c for c in charges if c["payment_intent"] == charged[0]["id"] and c["paid"]
        ]
        assert len(succeeded_charges) == 1
        rows = await db.fetch(
            "SELECT status, external_id, is_duplicate FROM payments WHERE subject_id = $1", subject
        )
        paid = [r for r in rows if r["status"] == "succeeded"]
        assert [(r["external_id"], r["is_duplicate"]) for r in paid] == [(charged[0]["id"], False)]
        assert all(r["status"] in ("succeeded", "canceled", "failed") for r in rows), rows
        booking = await db.fetchval("SELECT status FROM bookings WHERE id = $1", subject)
        assert booking == "confirmed"
        heard = await db.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'booking.confirmed' "
            "AND subject_id = $1",
            str(subject),
        )
        assert heard == 1  # the booking heard of the payment exactly once
        booked = await db.fetchval(
            "SELECT count(*) FROM ledger_transactions t JOIN payments p ON p.id = t.payment_id "
            "WHERE p.subject_id = $1 AND t.kind = 'charge'",
            subject,
        )
        assert booked == 1


@pytest.mark.timeout(900)
async def test_killing_the_app_at_every_crash_point_loses_and_doubles_nothing(
    app: Litestar,
    settings: Settings,
    localstripe: LocalStripe,
    tmp_path: Path,
) -> None:
    patient = await ready_patient(app)
    doctor = await approved_doctor(app, publish_days=7)
    async with client_for(app) as http:
        bookings = HeldBookings(app, patient, await free_slots(http, doctor.id))
    hook = f"crash-{uuid.uuid4().hex[:8]}"
    subjects: list[uuid.UUID] = []
    kills: dict[str, int] = {}
    try:
        for point in CRASH_POINTS:
            server = CrashingServer(settings, f"{point}=kill:0.5", tmp_path / f"{point}.log")
            async with server.running():
                # localstripe's webhooks race our own requests into the crashes.
                await localstripe.register_webhook(
                    hook, server.url + "/api/payments/webhooks/stripe", STRIPE_WEBHOOK_SECRET
                )
                async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                    for _ in range(12):  # batches until the point was hit often enough
                        batch = [await bookings.new() for _ in range(3)]
                        subjects.extend(batch)
                        await asyncio.gather(*(pay_until_paid(http, patient, s) for s in batch))
                        if server.kills >= KILLS_PER_POINT:
                            break
            kills[point] = server.kills

        # Charged, then killed before anything was written, and the client gives up:
        # only reconciliation can find these charges (no webhook either).
        await localstripe.register_webhook(hook, "http://127.0.0.1:9/", "whsec_unused")
        abandoned = [await bookings.new() for _ in range(3)]
        server = CrashingServer(
            settings, "payments.confirm.after_gateway_call=kill", tmp_path / "abandoned.log"
        )
        async with server.running(), httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            for subject in abandoned:
                start = {"purpose": "booking", "subject_id": str(subject)}
                payment = await http.post("/api/payments", json=start, headers=patient.headers)
                with contextlib.suppress(*RETRYABLE):
                    await http.post(
                        f"/api/payments/{payment.json()['id']}/confirm",
                        json={"payment_method": "pm_card_visa"},
                        headers=patient.headers,
                    )
                await server.ready()
        assert server.kills == len(abandoned)
        lost = await app.state.services.db.fetchval(
            "SELECT count(*) FROM payments WHERE subject_id = ANY($1) AND status = 'open'",
            abandoned,
        )
        assert lost == len(abandoned)  # charged at the gateway, not yet in our books
    finally:
        await localstripe.register_webhook(hook, "http://127.0.0.1:9/", "whsec_unused")

    await Reconciler(Payments(app.state.services)).run(grace_seconds=0)
    await check_exactly_one_charge(app, localstripe, subjects + abandoned)
    assert all(count >= KILLS_PER_POINT for count in kills.values()), kills
