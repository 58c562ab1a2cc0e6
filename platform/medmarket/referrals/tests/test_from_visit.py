"""A first visit the doctor ends as not fit for online care leads to a referral: the
platform drafts it from the visit (``referral.suggested``), the doctor completes it, the
patient agrees and the hospital takes them."""

from __future__ import annotations

import uuid

from litestar import Litestar

from medmarket.referrals.tests.helpers import (
    DETAILS,
    call,
    consent,
    deliver_outbox,
    notifications,
    ok,
    read,
    receiving_hospital,
    visit_under_way,
)


async def test_an_unsuitable_first_visit_leads_to_a_referral_the_doctor_completes(
    app: Litestar,
) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    note = "首诊：胸痛待查，需线下冠脉造影"
    await ok(
        app,
        "POST",
        visit.path + "/end",
        visit.doctor,
        {"outcome": "first_visit_unsuitable", "note": note},
    )
    await deliver_outbox(app)

    [draft] = [
        r
        for r in await ok(app, "GET", "/api/referrals", visit.doctor)
        if r["booking_id"] == visit.booking_id
    ]
    assert draft["status"] == "draft" and draft["origin"] == "visit_unsuitable"
    assert draft["reason"] == note and draft["hospital"] is None
    assert await notifications(app, "referral.draft_ready", visit.doctor.account.id)
    # A draft is the doctor's: the patient sees it once it is sent to them.
    assert (
        await call(app, "GET", f"/api/referrals/{draft['id']}", visit.patient)
    ).status_code == 404
    # The suggestion was taken by its handler, not left to be retried and abandoned.
    left = await app.state.services.db.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'referral.suggested' "
        "AND payload->>'booking_id' = $1 AND delivered_at IS NULL",
        visit.booking_id,
    )
    assert left == 0
    # Delivered twice (at least once, as the outbox promises), it drafts once.
    await app.state.services.db.execute(
        "UPDATE outbox SET delivered_at = NULL, available_at = now() "
        "WHERE topic = 'referral.suggested' AND payload->>'booking_id' = $1",
        visit.booking_id,
    )
    await deliver_outbox(app)
    drafts = await app.state.services.db.fetchval(
        "SELECT count(*) FROM referrals WHERE booking_id = $1",
        uuid.UUID(visit.booking_id),
    )
    assert drafts == 1

    submitted = await ok(
        app,
        "POST",
        f"/api/referrals/{draft['id']}/submit",
        visit.doctor,
        {**DETAILS, "hospital_id": hospital.id},
    )
    assert submitted["status"] == "awaiting_consent"
    await consent(app, visit, submitted)
    await deliver_outbox(app)
    done = await read(app, visit.patient, submitted)
    assert done["status"] == "accepted" and done["appointment"]["ticket"]
    assert [e["status"] for e in done["timeline"]] == [
        "draft",
        "awaiting_consent",
        "pending",
        "accepted",
    ]
    # The booking was refunded in full by its own rules.
    booking = await ok(app, "GET", f"/api/bookings/{visit.booking_id}", visit.patient)
    assert booking["end_reason"] == "first_visit_unsuitable"


async def test_a_draft_the_doctor_drops_never_reaches_the_patient(app: Litestar) -> None:
    visit = await visit_under_way(app)
    end = {"outcome": "first_visit_unsuitable", "note": "首诊：胸痛待查"}
    await ok(app, "POST", visit.path + "/end", visit.doctor, end)
    await deliver_outbox(app)
    [draft] = await ok(app, "GET", "/api/referrals", visit.doctor)
    dropped = await ok(
        app, "POST", f"/api/referrals/{draft['id']}/cancel", visit.doctor, {"reason": "患者已住院"}
    )
    assert dropped["status"] == "cancelled"
    # The patient was never asked: no referral to see, and nothing to be told of.
    assert await ok(app, "GET", "/api/referrals", visit.patient) == []
    hidden = await call(app, "GET", f"/api/referrals/{draft['id']}", visit.patient)
    assert hidden.status_code == 404
    assert await notifications(app, "referral.cancelled", visit.patient.account.id) == []
