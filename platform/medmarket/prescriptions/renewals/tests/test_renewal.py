"""The whole path, paid through the API against localstripe: the patient asks their doctor to
renew a chronic follow-up prescription months after the visit, pays, the doctor sees it in
their list and renews it: a new prescription, written through the same checks and issuing as
any other, that renews the earlier one. The audit trail shows each step."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Litestar

from medmarket.db import Connection
from medmarket.prescriptions.renewals.tests.helpers import (
    NOTE,
    PRICE_FEN,
    PROFILE,
    call,
    earlier_prescription,
    notified,
    ok,
    paid_request,
    pay_for,
    requested,
    trail,
    visit_long_ago,
)
from medmarket.prescriptions.tests.helpers import METFORMIN, item


async def test_request_pay_renew(app: Litestar, superuser: Connection) -> None:
    earlier = await earlier_prescription(app)
    await visit_long_ago(superuser, earlier, dt.timedelta(days=60))
    asked = await requested(app, earlier)
    assert asked["status"] == "requested" and asked["note"] == NOTE
    assert (asked["price_fen"], asked["currency"]) == (PRICE_FEN, "CNY")
    assert asked["prescription_id"] == earlier.id and asked["doctor_id"] == earlier.doctor.id
    assert asked["answer_due_at"] is None and asked["pay_by"]
    # Unpaid, the doctor does not see it yet.
    assert await ok(app, "GET", "/api/doctor/renewals", earlier.doctor) == []

    renewal, payment = await pay_for(app, earlier, asked)
    assert payment["amount"]["amount"] == PRICE_FEN
    parties = await app.state.services.db.fetchrow(
        "SELECT payer_id, doctor_id, hospital_id FROM payments WHERE id = $1",
        uuid.UUID(payment["id"]),
    )
    assert (str(parties["payer_id"]), str(parties["doctor_id"])) == (
        earlier.patient.account.id,
        earlier.doctor.id,
    )
    assert str(parties["hospital_id"]) == earlier.doctor.hospital_id  # shares as for a visit
    assert renewal["status"] == "awaiting_doctor"
    paid_at = dt.datetime.fromisoformat(renewal["paid_at"])
    due = dt.datetime.fromisoformat(renewal["answer_due_at"])
    assert due - paid_at == dt.timedelta(hours=app.state.settings.renewal_answer_hours)
    [waiting] = await ok(app, "GET", "/api/doctor/renewals", earlier.doctor)
    assert (waiting["id"], waiting["answer_due_at"]) == (renewal["id"], renewal["answer_due_at"])
    assert await notified(app, "prescription_renewal.requested", earlier.doctor.account.id)

    answered = await ok(app, "POST", f"/api/renewals/{renewal['id']}/approve", earlier.doctor, {})
    assert answered["status"] == "renewed" and answered["closed_at"]
    renewed = await ok(app, "GET", f"/api/prescriptions/{answered['renewal_id']}", earlier.patient)
    assert renewed["renews"] == earlier.id and renewed["version"] == 1
    assert renewed["consultation_id"] == earlier.visit.consultation_id
    assert renewed["chronic_follow_up"] is True
    assert renewed["diagnosis"] == earlier.prescription["diagnosis"]
    assert renewed["items"] == earlier.prescription["items"]
    assert renewed["standing"] == "awaiting_review"  # a pharmacist reviews it as any other
    assert renewed["written_at"] > earlier.prescription["written_at"]
    still = await ok(app, "GET", f"/api/prescriptions/{earlier.id}", earlier.patient)
    assert still["status"] == earlier.prescription["status"]  # left as it stands
    assert await ok(app, "GET", "/api/doctor/renewals", earlier.doctor) == []
    assert await notified(app, "prescription_renewal.renewed", earlier.patient.account.id)
    [mine] = await ok(app, "GET", "/api/renewals", earlier.patient)
    assert mine == answered

    assert await trail(app, renewal["id"]) == [
        "prescription_renewal.requested",
        "payment.created",
        "payment.succeeded",
        "prescription_renewal.paid",
        "prescription_renewal.renewed",
    ]
    issued = await app.state.services.db.fetch(
        "SELECT action, detail FROM audit_events WHERE subject_type = 'prescription' "
        "AND subject_id = $1 ORDER BY id",
        answered["renewal_id"],
    )
    # Then routed to a pharmacy's review desk (or kept for one, when none reviews yet).
    actions = [row["action"] for row in issued]
    assert actions[:2] == ["prescription.written", "prescription.issued"]
    assert actions[2:] in (["prescription.routed"], ["prescription.unrouted"])
    assert issued[0]["detail"]["renews"] == earlier.id


async def test_the_doctor_may_edit_and_the_rules_still_decide(app: Litestar) -> None:
    earlier = await earlier_prescription(app)
    renewal, _ = await paid_request(app, earlier)
    path = f"/api/renewals/{renewal['id']}/approve"
    refused = await call(app, "POST", path, earlier.doctor, {"items": [], "valid_days": 4})
    assert refused.status_code in (400, 422)
    edited = await ok(
        app,
        "POST",
        path,
        earlier.doctor,
        {
            "diagnosis": "2 型糖尿病",
            "items": [
                item(
                    drug_id=METFORMIN,
                    dose="0.5",
                    dose_unit="g",
                    frequency="bid",
                    duration_days=28,
                    quantity="56",
                )
            ],
            "valid_days": 2,
        },
    )
    renewed = await ok(app, "GET", f"/api/prescriptions/{edited['renewal_id']}", earlier.doctor)
    assert renewed["diagnosis"] == "2 型糖尿病" and renewed["renews"] == earlier.id
    assert [i["drug"]["id"] for i in renewed["items"]] == [METFORMIN]
    assert renewed["valid_until"] > renewed["valid_from"]
    again = await call(app, "POST", path, earlier.doctor, {})
    assert again.status_code == 409
    assert again.json()["type"].endswith("/wrong-renewal-status")
    assert again.json()["status_now"] == "renewed"


async def test_only_the_prescriptions_doctor_answers(app: Litestar) -> None:
    earlier = await earlier_prescription(app)
    other = await earlier_prescription(app)
    renewal, _ = await paid_request(app, earlier)
    for action, body in (("approve", {}), ("ask-for-visit", {"message": "请来复诊"})):
        refused = await call(
            app, "POST", f"/api/renewals/{renewal['id']}/{action}", other.doctor, body
        )
        assert refused.status_code == 404, refused.text
        assert refused.json()["type"].endswith("/not-found")
    for stranger in (other.doctor, other.patient):
        hidden = await call(app, "GET", f"/api/renewals/{renewal['id']}", stranger)
        assert hidden.status_code == 404
    missing = await call(app, "GET", f"/api/renewals/{uuid.uuid4()}", earlier.patient)
    assert missing.status_code == 404
    assert await ok(app, "GET", "/api/doctor/renewals", other.doctor) == []
    assert await ok(app, "GET", "/api/renewals", other.patient) == []
    seen = await ok(app, "GET", f"/api/renewals/{renewal['id']}", earlier.doctor)
    assert seen["status"] == "awaiting_doctor"


async def test_the_doctor_reads_the_patients_record_while_answering(app: Litestar) -> None:
    earlier = await earlier_prescription(app)
    other = await earlier_prescription(app)
    renewal, _ = await paid_request(app, earlier)
    path = f"/api/renewals/{renewal['id']}/health-summary"
    summary = await ok(app, "GET", path, earlier.doctor)
    assert summary["chronic_conditions"] == PROFILE["chronic_conditions"]
    assert summary["current_medications"] == PROFILE["current_medications"]
    assert summary["prescribing_until"] == renewal["answer_due_at"]
    reads = await app.state.services.db.fetch(
        "SELECT actor_id, subject_id, detail FROM audit_events "
        "WHERE action = 'patient.health_summary_read' AND consultation_id = $1",
        uuid.UUID(earlier.visit.consultation_id),
    )
    assert [(str(r["actor_id"]), r["subject_id"], r["detail"]) for r in reads] == [
        (earlier.doctor.account.id, earlier.patient.id, {"renewal_id": renewal["id"]})
    ]
    assert (await call(app, "GET", path, other.doctor)).status_code == 404
    assert (await call(app, "GET", path, earlier.patient)).status_code == 403
    await ok(app, "POST", f"/api/renewals/{renewal['id']}/approve", earlier.doctor, {})
    closed = await call(app, "GET", path, earlier.doctor)
    assert closed.status_code == 409 and closed.json()["status_now"] == "renewed"
