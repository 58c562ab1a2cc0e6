"""The operator's trace of a consultation: who did what when, from the booking to the end."""

from __future__ import annotations

import io

import pytest
from litestar import Litestar

from medmarket.consults.tests.helpers import booked_visit, call, ok
from medmarket.signaling.client import SignalingClient
from medmarket.tests.support.fixtures import Account, client_for
from medmarket.tests.support.payments import serving
from medmarket.tests.support.seed import approved_doctor

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


@pytest.mark.slow
async def test_the_trace_shows_who_did_what_when(app: Litestar, operator: Account) -> None:
    visit = await booked_visit(app)
    colleague = await approved_doctor(app, specialties=("神经内科",))
    await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    patient_token = (await ok(app, "POST", visit.path + "/enter", visit.patient))["room"]["token"]
    doctor_token = (await ok(app, "POST", visit.path + "/enter", visit.doctor))["room"]["token"]
    async with serving(app) as url:
        patient = SignalingClient(visit.consultation_id, patient_token)
        doctor = SignalingClient(visit.consultation_id, doctor_token)
        await patient.connect(url)
        await doctor.connect(url)
        await ok(app, "POST", visit.path + "/admit", visit.doctor)
        said = await ok(app, "POST", visit.path + "/messages", visit.patient, {"body": "头晕"})
        async with client_for(app) as http:
            shared = await http.post(
                visit.path + "/attachments",
                headers=visit.patient.headers,
                files={"file": ("血压.png", io.BytesIO(PNG), "image/png")},
            )
        assert shared.status_code == 201
        await ok(
            app, "POST", visit.path + "/notes", visit.doctor, {"base_version": 0, "advice": "低盐"}
        )
        await ok(app, "DELETE", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
        await patient.close()
        await doctor.close()
    await ok(app, "POST", visit.path + "/end", visit.doctor, {"outcome": "completed"})

    trace = await ok(
        app, "GET", f"/api/operator/consultations/{visit.consultation_id}/trace", operator
    )
    assert trace["consultation"]["status"] == "completed"
    assert trace["booking"]["id"] == visit.booking_id
    actions = [e["action"] for e in trace["events"]]
    expected_order = [
        "booking.held",
        "payment.created",
        "payment.succeeded",
        "consultation.scheduled",
        "booking.confirmed",
        "consultation.colleague_invited",
        "consultation.waiting",
        "consultation.started",
        "consultation.message_posted",
        "consultation.attachment_uploaded",
        "consultation.notes_written",
        "consultation.colleague_removed",
        "booking.completed",
        "consultation.ended",
    ]
    positions = [actions.index(action) for action in expected_order]
    assert positions == sorted(positions), actions
    joins = [
        e for e in trace["events"] if e["action"] in ("consultation.joined", "consultation.left")
    ]
    assert {(e["actor_id"], e["action"]) for e in joins} == {
        (visit.patient.account.id, "consultation.joined"),
        (visit.patient.account.id, "consultation.left"),
        (visit.doctor.account.id, "consultation.joined"),
        (visit.doctor.account.id, "consultation.left"),
    }
    issued = [e for e in trace["events"] if e["action"] == "consultation.token_issued"]
    assert {e["detail"]["role"] for e in issued} == {"patient", "doctor"}
    assert all(e["occurred_at"] and e["actor_id"] for e in issued)
    assert [m["id"] for m in trace["messages"]] == [said["id"], shared.json()["id"]]
    assert trace["messages"][1]["attachment"]["name"] == "血压.png"
    assert [a["name"] for a in trace["attachments"]] == ["血压.png"]
    assert [n["advice"] for n in trace["notes"]] == ["低盐"]
    assert trace["colleagues"][0]["removed_at"] is not None
    (payment,) = trace["payments"]
    assert (payment["id"], payment["status"], payment["amount"]) == (
        visit.payment_id,
        "succeeded",
        5000,
    )
    paid = [e for e in trace["events"] if e["subject_type"] == "payment"]
    assert {"payment.created", "payment.succeeded"} <= {e["action"] for e in paid}

    # Reading the trace is on the record too; participants cannot read it.
    again = await ok(
        app, "GET", f"/api/operator/consultations/{visit.consultation_id}/trace", operator
    )
    assert "consultation.trace_read" in [e["action"] for e in again["events"]]
    refused = await call(
        app, "GET", f"/api/operator/consultations/{visit.consultation_id}/trace", visit.doctor
    )
    assert refused.status_code == 403
