"""Money goes back when nobody renews: the doctor asking for a visit refunds the patient in
full, and so does a request left unanswered past answer_due_at, which the job expires exactly
once however often and by however many workers it runs; a payment that lands after the
request was given up is refunded too. The audit trail shows each step, refunds included."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from litestar import Litestar

from medmarket.db import Connection
from medmarket.domains import DOMAINS, jobs
from medmarket.prescriptions.renewals import expiry
from medmarket.prescriptions.renewals.tests.helpers import (
    PRICE_FEN,
    answer_overdue,
    call,
    earlier_prescription,
    notified,
    ok,
    paid_request,
    refunds_of,
    requested,
    trail,
)
from medmarket.tests.support.payments import LocalStripe, deliver_outbox
from medmarket.tests.support.seed import Patient


async def test_asking_for_a_visit_refunds_in_full(app: Litestar) -> None:
    earlier = await earlier_prescription(app)
    renewal, payment = await paid_request(app, earlier)
    path = f"/api/renewals/{renewal['id']}/ask-for-visit"
    blank = await call(app, "POST", path, earlier.doctor, {"message": ""})
    assert blank.status_code in (400, 422)
    answered = await ok(
        app, "POST", path, earlier.doctor, {"message": "血压需复查，请预约视频复诊"}
    )
    assert answered["status"] == "visit_requested"
    assert answered["visit_message"] == "血压需复查，请预约视频复诊"
    assert answered["renewal_id"] is None and answered["closed_at"]
    [told] = await notified(app, "prescription_renewal.visit_requested", earlier.patient.account.id)
    assert told["params"]["message"] == "血压需复查，请预约视频复诊"
    again = await call(app, "POST", f"/api/renewals/{renewal['id']}/approve", earlier.doctor, {})
    assert again.status_code == 409 and again.json()["status_now"] == "visit_requested"

    await deliver_outbox(app)
    [refund] = await refunds_of(app, payment, earlier.patient)
    assert (refund["amount"]["amount"], refund["reason"]) == (PRICE_FEN, "visit_requested")
    assert refund["status"] == "succeeded"
    assert await notified(app, "prescription_renewal.refunded", earlier.patient.account.id)
    assert await trail(app, renewal["id"]) == [
        "prescription_renewal.requested",
        "payment.created",
        "payment.succeeded",
        "prescription_renewal.paid",
        "prescription_renewal.visit_requested",
        "refund.requested",
        "refund.succeeded",
        "prescription_renewal.refunded",
    ]


async def test_unanswered_it_expires_and_is_refunded_exactly_once(
    app: Litestar, superuser: Connection, localstripe: LocalStripe
) -> None:
    earlier = await earlier_prescription(app)
    renewal, payment = await paid_request(app, earlier)
    db = app.state.services.db
    assert await expiry.expire_unanswered(db) == 0  # not due yet
    await answer_overdue(superuser, renewal["id"])
    late = await call(app, "POST", f"/api/renewals/{renewal['id']}/approve", earlier.doctor, {})
    assert late.status_code == 409 and late.json()["type"] == "/problems/renewal-answer-overdue"
    visit = await call(
        app,
        "POST",
        f"/api/renewals/{renewal['id']}/ask-for-visit",
        earlier.doctor,
        {"message": "x"},
    )
    assert visit.status_code == 409

    # Two workers at once, then the job again: one expiry, one refund.
    counts = await asyncio.gather(expiry.expire_unanswered(db), expiry.expire_unanswered(db))
    assert sorted(counts) == [0, 1]
    [job] = [job for job in jobs(DOMAINS) if job.name == "expire prescription renewals"]
    await job.run(app.state.services)
    expired = await ok(app, "GET", f"/api/renewals/{renewal['id']}", earlier.patient)
    assert expired["status"] == "expired" and expired["closed_at"]
    assert await ok(app, "GET", "/api/doctor/renewals", earlier.doctor) == []
    await deliver_outbox(app)
    await job.run(app.state.services)
    [refund] = await refunds_of(app, payment, earlier.patient)
    assert (refund["amount"]["amount"], refund["reason"]) == (PRICE_FEN, "doctor_unanswered")
    assert refund["status"] == "succeeded"
    [intent] = await localstripe.intents_for(uuid.UUID(renewal["id"]))
    stripe_refunds = await localstripe.all("/v1/refunds")
    assert [r["amount"] for r in stripe_refunds if r["payment_intent"] == intent["id"]] == [
        PRICE_FEN
    ]
    assert len(await notified(app, "prescription_renewal.expired", earlier.patient.account.id)) == 1
    assert await trail(app, renewal["id"]) == [
        "prescription_renewal.requested",
        "payment.created",
        "payment.succeeded",
        "prescription_renewal.paid",
        "prescription_renewal.expired",
        "refund.requested",
        "refund.succeeded",
        "prescription_renewal.refunded",
    ]


async def test_unpaid_in_time_it_is_cancelled_and_a_late_payment_refunded(
    app: Litestar, superuser: Connection
) -> None:
    earlier = await earlier_prescription(app)
    renewal = await requested(app, earlier)
    async with superuser.transaction():  # asked two hours ago, to be paid within one
        await superuser.execute("SET LOCAL session_replication_role = replica")
        await superuser.execute(
            "UPDATE prescription_renewals SET requested_at = now() - interval '2 hours', "
            "pay_by = now() - interval '1 hour' WHERE id = $1",
            uuid.UUID(renewal["id"]),
        )
    refused = await call(
        app,
        "POST",
        "/api/payments",
        earlier.patient,
        {"purpose": "prescription_renewal", "subject_id": renewal["id"]},
    )
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/renewal-not-payable"
    db = app.state.services.db
    assert await expiry.cancel_unpaid(db) == 1
    assert await expiry.cancel_unpaid(db) == 0
    cancelled = await ok(app, "GET", f"/api/renewals/{renewal['id']}", earlier.patient)
    assert cancelled["status"] == "cancelled"

    # A payment started in time that the gateway takes after the request was withdrawn.
    other = await earlier_prescription(app)
    second = await requested(app, other)
    started = await ok(
        app,
        "POST",
        "/api/payments",
        other.patient,
        {"purpose": "prescription_renewal", "subject_id": second["id"]},
    )
    await superuser.execute(
        "UPDATE prescription_renewals SET status = 'cancelled', status_changed_at = now(), "
        "closed_at = now() WHERE id = $1",
        uuid.UUID(second["id"]),
    )
    paid = await pay_started(app, other.patient, started["id"])
    assert paid["status"] == "succeeded"
    await deliver_outbox(app)
    [refund] = await refunds_of(app, paid, other.patient)
    assert (refund["amount"]["amount"], refund["reason"]) == (PRICE_FEN, "late_payment")
    still = await ok(app, "GET", f"/api/renewals/{second['id']}", other.patient)
    assert still["status"] == "cancelled" and still["paid_at"] is None
    assert await notified(app, "prescription_renewal.paid_too_late", other.patient.account.id)
    assert "prescription_renewal.paid_too_late" in await trail(app, second["id"])


async def pay_started(app: Litestar, patient: Patient, payment_id: str) -> dict[str, Any]:
    """Confirm an attempt started earlier, as the patient's browser does."""
    gateway = LocalStripe(app.state.settings.stripe_api_base)
    paid: dict[str, Any] = await ok(
        app,
        "POST",
        f"/api/payments/{payment_id}/confirm",
        patient,
        {"payment_method": await gateway.card_token()},
    )
    return paid
