"""The pharmacists' review desk: routing (the doctor's hospital pharmacy first, an
independent one otherwise), only the pharmacy's own prescriptions (404 to anyone else),
approving and rejecting while a prescription is issued and valid, the doctor who reviews
their own prescription refused, and the trail from writing to review with its notices."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest
from litestar import Litestar

from medmarket.consults.tests.helpers import actions, notifications
from medmarket.db import Connection
from medmarket.prescriptions.routing import route_unrouted
from medmarket.prescriptions.tests.helpers import (
    call,
    move_back,
    ok,
    prescribe,
    prescription,
    visit_in_progress,
)
from medmarket.prescriptions.tests.review_helpers import (
    lone_pharmacist,
    pharmacist_of,
    reviewing_pharmacy,
    routed_to,
)
from medmarket.tests.support.seed import approved_doctor

DESK = "/api/review-desk"


async def test_routed_to_the_doctors_hospital_pharmacy_first(app: Litestar) -> None:
    independent = await reviewing_pharmacy(app)
    visit = await visit_in_progress(app)
    own = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    issued = await prescribe(app, visit)
    assert await routed_to(app, issued["id"]) == own.id != independent.id
    # A correction is routed afresh, as a new prescription.
    body = prescription(correction_reason="剂量更正")
    corrected = await ok(
        app, "POST", f"/api/prescriptions/{issued['id']}/versions", visit.doctor, body
    )
    assert await routed_to(app, corrected["id"]) == own.id
    assert "prescription.routed" in await actions(app, visit.consultation_id)


async def test_an_independent_pharmacy_when_the_hospital_has_none(app: Litestar) -> None:
    await reviewing_pharmacy(app)
    visit = await visit_in_progress(app)
    # The hospital's own pharmacy that does not review is passed over.
    await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id, reviews_prescriptions=False)
    issued = await prescribe(app, visit)
    pharmacy_id = await routed_to(app, issued["id"])
    assert pharmacy_id is not None
    kind = await app.state.services.db.fetchval(
        "SELECT kind FROM pharmacies WHERE id = $1 AND reviews_prescriptions AND closed_at IS NULL",
        uuid.UUID(pharmacy_id),
    )
    assert kind == "independent"


async def test_the_desk_lists_only_its_own_pharmacys_oldest_first(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    own = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    first = await prescribe(app, visit)
    second = await prescribe(app, visit)
    other_visit = await visit_in_progress(app)
    other = await reviewing_pharmacy(app, hospital_id=other_visit.doctor.hospital_id)
    elsewhere = await prescribe(app, other_visit)

    listed = await ok(app, "GET", DESK, own.pharmacist)
    assert [e["prescription_id"] for e in listed] == [first["id"], second["id"]]
    entry = listed[0]
    assert entry["patient"]["age_years"] == first["patient"]["age_years"]
    assert "name" not in entry["patient"] and "phone" not in entry["patient"]
    assert entry["items"][0]["dose"] == "5" and entry["items"][0]["frequency"] == "qd"
    assert entry["diagnosis"] == first["diagnosis"] and entry["waiting_minutes"] >= 0
    assert entry["review"] is None and entry["standing"] == "awaiting_review"

    # Another pharmacy's pharmacist: as if it did not exist, on read and on deciding.
    assert [e["prescription_id"] for e in await ok(app, "GET", DESK, other.pharmacist)] == [
        elsewhere["id"]
    ]
    path = f"{DESK}/{first['id']}"
    assert (await call(app, "GET", path, other.pharmacist)).status_code == 404
    assert (await call(app, "POST", path + "/approve", other.pharmacist)).status_code == 404
    rejected = await call(
        app, "POST", path + "/reject", other.pharmacist, {"reason_code": "allergy"}
    )
    assert rejected.status_code == 404
    # A pharmacist of no pharmacy, and the patient or doctor (not pharmacists).
    alone = await lone_pharmacist(app, own.operator)
    assert (await call(app, "GET", DESK, alone)).status_code == 404
    assert (await call(app, "POST", path + "/approve", alone)).status_code == 404
    assert (await call(app, "POST", path + "/approve", visit.doctor)).status_code == 403
    assert (await call(app, "GET", DESK, visit.patient)).status_code == 403


async def test_approved_stands_approved_for_the_patient_with_the_trail(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    own = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    issued = await prescribe(app, visit)
    decided = await ok(app, "POST", f"{DESK}/{issued['id']}/approve", own.pharmacist, {})
    assert decided["status"] == "approved" and decided["review"]["decision"] == "approved"
    assert decided["review"]["decided_by"] == "药师 测试"
    seen = await ok(app, "GET", f"/api/prescriptions/{issued['id']}", visit.patient)
    assert (seen["status"], seen["standing"]) == ("approved", "approved")
    # Decided once: not on the desk any more, and not again.
    assert issued["id"] not in [
        e["prescription_id"] for e in await ok(app, "GET", DESK, own.pharmacist)
    ]
    again = await call(app, "POST", f"{DESK}/{issued['id']}/approve", own.pharmacist)
    assert again.status_code == 409 and again.json()["status_now"] == "approved"

    # As the operators' consultation trace shows it: writing, issue, routing, review.
    traced = await ok(
        app, "GET", f"/api/operator/consultations/{visit.consultation_id}/trace", own.operator
    )
    trail = [event["action"] for event in traced["events"]]
    written = trail.index("prescription.written")
    assert trail.index("prescription.issued") > written
    assert trail.index("prescription.approved") > trail.index("prescription.routed") > written
    event = await app.state.services.db.fetchrow(
        "SELECT actor_id, actor_role, detail FROM audit_events "
        "WHERE action = 'prescription.approved' AND subject_id = $1",
        issued["id"],
    )
    assert (str(event["actor_id"]), event["actor_role"]) == (own.pharmacist.id, "pharmacist")
    assert event["detail"]["pharmacy_id"] == own.id and event["detail"]["pharmacist_licence"]
    for user_id in (visit.doctor.account.id, visit.patient.account.id):
        sent = await notifications(app, "prescription.approved", user_id)
        assert [n["params"]["prescription_id"] for n in sent] == [issued["id"]]


async def test_rejected_with_a_reason_from_the_list(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    own = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    issued = await prescribe(app, visit)
    path = f"{DESK}/{issued['id']}/reject"
    unknown = await call(app, "POST", path, own.pharmacist, {"reason_code": "too_pricey"})
    assert unknown.status_code == 422
    wordless = await call(app, "POST", path, own.pharmacist, {"reason_code": "other"})
    assert wordless.status_code == 422 and wordless.json()["errors"][0]["field"] == "text"
    body = {"reason_code": "interaction", "text": "与患者现用药物存在相互作用"}
    decided = await ok(app, "POST", path, own.pharmacist, body)
    assert decided["review"]["reason_code"] == "interaction"
    assert decided["review"]["reason_text"] == body["text"]
    seen = await ok(app, "GET", f"/api/prescriptions/{issued['id']}", visit.patient)
    assert seen["standing"] == "rejected"
    assert await notifications(app, "prescription.rejected", visit.doctor.account.id)
    assert await notifications(app, "prescription.rejected", visit.patient.account.id)


async def test_expired_or_voided_is_not_reviewed(app: Litestar, superuser: Connection) -> None:
    visit = await visit_in_progress(app)
    own = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    old = await prescribe(app, visit)
    await move_back(superuser, old["id"], dt.timedelta(days=1))
    expired = await call(app, "POST", f"{DESK}/{old['id']}/approve", own.pharmacist)
    assert expired.status_code == 409
    assert (expired.json()["status_now"], expired.json()["standing"]) == ("issued", "expired")

    withdrawn = await prescribe(app, visit)
    await ok(
        app, "POST", f"/api/prescriptions/{withdrawn['id']}/void", visit.doctor, {"reason": "开错"}
    )
    voided = await call(app, "POST", f"{DESK}/{withdrawn['id']}/approve", own.pharmacist)
    assert voided.status_code == 409 and voided.json()["status_now"] == "voided"
    assert withdrawn["id"] not in [
        e["prescription_id"] for e in await ok(app, "GET", DESK, own.pharmacist)
    ]


async def test_the_prescribing_doctor_does_not_review_it(app: Litestar) -> None:
    doctor = await approved_doctor(app, full_name="李 明华")
    visit = await visit_in_progress(app, doctor=doctor)
    own = await reviewing_pharmacy(app, hospital_id=doctor.hospital_id)
    same_person = await pharmacist_of(app, own.operator, own.id, display_name="李明华")
    issued = await prescribe(app, visit)
    refused = await call(app, "POST", f"{DESK}/{issued['id']}/approve", same_person)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "own-prescription"
    # Another pharmacist of the pharmacy reviews it.
    await ok(app, "POST", f"{DESK}/{issued['id']}/approve", own.pharmacist)


async def test_the_database_approves_only_with_a_pharmacists_decision(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    issued = await prescribe(app, visit)
    db = app.state.services.db
    with pytest.raises(asyncpg.CheckViolationError, match="review"):
        await db.execute(
            "UPDATE prescriptions SET status = 'approved' WHERE id = $1", uuid.UUID(issued["id"])
        )


async def test_one_left_unrouted_is_routed_by_the_job(app: Litestar, superuser: Connection) -> None:
    visit = await visit_in_progress(app)
    own = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    issued = await prescribe(app, visit)
    # As if no pharmacy reviewed when it was issued (the migrating user: the app never deletes).
    await superuser.execute(
        "DELETE FROM prescription_reviews WHERE prescription_id = $1", uuid.UUID(issued["id"])
    )
    assert await routed_to(app, issued["id"]) is None
    assert await route_unrouted(app.state.services) >= 1
    assert await routed_to(app, issued["id"]) == own.id
