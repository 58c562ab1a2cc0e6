"""Only the consultation's own doctor prescribes, for that consultation's patient, while the
visit is in progress or within the window after it was completed. Anyone else, another doctor
included, gets the 404 of a consultation (or prescription) that does not exist; a colleague
in the room is refused (they know it exists); the patient's account reads."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest
from litestar import Litestar

from medmarket.consults.tests.helpers import booked_visit
from medmarket.prescriptions.tests.helpers import (
    call,
    ok,
    prescribe,
    prescription,
    visit_in_progress,
)
from medmarket.tests.support.seed import approved_doctor, ready_patient


async def test_a_doctor_who_did_not_see_the_patient_gets_404(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    other_doctor = await approved_doctor(app)
    # The other doctor has a visit of their own in progress, with another patient.
    own = await visit_in_progress(app, doctor=other_doctor)
    await prescribe(app, own)
    missing_visit = f"/api/consultations/{uuid.uuid4()}"
    missing_prescription = f"/api/prescriptions/{uuid.uuid4()}"
    correction = {**prescription(), "correction_reason": "剂量有误"}
    attempts = [
        ("POST", visit.path + "/prescriptions", missing_visit + "/prescriptions", prescription()),
        ("GET", visit.path + "/prescriptions", missing_visit + "/prescriptions", None),
        ("GET", visit.path + "/health-summary", missing_visit + "/health-summary", None),
        ("GET", f"/api/prescriptions/{issued['id']}", missing_prescription, None),
        (
            "POST",
            f"/api/prescriptions/{issued['id']}/versions",
            missing_prescription + "/versions",
            correction,
        ),
        (
            "POST",
            f"/api/prescriptions/{issued['id']}/void",
            missing_prescription + "/void",
            {"reason": "x"},
        ),
    ]
    for method, path, missing, body in attempts:
        response = await call(app, method, path, other_doctor, body)
        expected = await call(app, method, missing, other_doctor, body)
        assert response.status_code == expected.status_code == 404, (method, path, response.text)
        assert response.json()["detail"] == expected.json()["detail"], (method, path)
    # Nothing of the other doctor's reached this consultation, and the prescription stands.
    listed = await ok(app, "GET", visit.path + "/prescriptions", visit.doctor)
    assert [(p["id"], p["status"]) for p in listed] == [(issued["id"], "issued")]


async def test_a_patient_reads_only_their_own_prescriptions(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    other = await visit_in_progress(app)  # another patient, another consultation
    for method, path in [
        ("GET", f"/api/prescriptions/{issued['id']}"),
        ("GET", visit.path + "/prescriptions"),
    ]:
        for stranger in (other.patient, await ready_patient(app)):
            response = await call(app, method, path, stranger)
            assert response.status_code == 404, (path, response.text)
    mine = await ok(app, "GET", f"/api/prescriptions/{issued['id']}", visit.patient)
    assert mine["patient"]["id"] == visit.patient.id
    # Patients never write, correct or void (the route is the doctors').
    refused = await call(app, "POST", visit.path + "/prescriptions", visit.patient, prescription())
    assert refused.status_code == 403


async def test_the_database_refuses_a_prescription_for_another_consultations_patient(
    app: Litestar,
) -> None:
    visit = await visit_in_progress(app)
    other = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    db = app.state.services.db  # as the application
    row = await db.fetchrow("SELECT * FROM prescriptions WHERE id = $1", uuid.UUID(issued["id"]))
    for changes in (
        {"patient_id": uuid.UUID(other.patient.id)},
        {"doctor_id": uuid.UUID(other.doctor.id)},
    ):
        values = {**dict(row), "id": uuid.uuid4(), **changes}
        values["lineage_id"] = values["id"]
        with pytest.raises(asyncpg.CheckViolationError, match="only the consultation's"):
            await db.execute(
                """
                INSERT INTO prescriptions (id, consultation_id, doctor_id, patient_id,
                       lineage_id, version, diagnosis, chronic_follow_up, valid_from,
                       valid_until, expires_at, document)
                VALUES ($1, $2, $3, $4, $5, 1, $6, false, $7, $8, $9, $10)
                """,
                values["id"],
                values["consultation_id"],
                values["doctor_id"],
                values["patient_id"],
                values["lineage_id"],
                values["diagnosis"],
                values["valid_from"],
                values["valid_until"],
                values["expires_at"],
                values["document"],
            )


async def test_an_invited_colleague_reads_but_does_not_prescribe(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    colleague = await approved_doctor(app, specialties=("内分泌科",))
    await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    issued = await prescribe(app, visit)
    for method, path, body in [
        ("POST", visit.path + "/prescriptions", prescription()),
        ("GET", visit.path + "/health-summary", None),
        ("POST", f"/api/prescriptions/{issued['id']}/void", {"reason": "x"}),
    ]:
        response = await call(app, method, path, colleague, body)
        assert response.status_code == 403, (method, path, response.text)
    assert await ok(app, "GET", f"/api/prescriptions/{issued['id']}", colleague) == issued


async def test_not_before_the_visit_began(app: Litestar) -> None:
    visit = await booked_visit(app)  # paid, the patient not admitted yet
    for status in ("scheduled", "waiting"):
        if status == "waiting":
            await ok(app, "POST", visit.path + "/enter", visit.patient)
        for path, body in [
            ("/prescriptions", prescription()),
            ("/health-summary", None),
        ]:
            method = "POST" if body else "GET"
            refused = await call(app, method, visit.path + path, visit.doctor, body)
            assert refused.status_code == 409, refused.text
            problem = refused.json()
            assert problem["type"] == "/problems/prescribing-closed"
            assert problem["errors"][0]["code"] == "not-started"
            assert problem["status_now"] == status


async def test_within_the_window_after_a_completed_visit_and_not_after(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    await ok(app, "POST", visit.path + "/end", visit.doctor, {"outcome": "completed"})
    first = await prescribe(app, visit)
    assert first["status"] == "issued"
    window = app.state.settings.prescription_window_hours
    await app.state.services.db.execute(
        "UPDATE consultations SET ended_at = now() - make_interval(hours => $2) - "
        "interval '1 minute' WHERE id = $1",
        uuid.UUID(visit.consultation_id),
        window,
    )
    closed = await call(app, "POST", visit.path + "/prescriptions", visit.doctor, prescription())
    assert closed.status_code == 409
    assert closed.json()["errors"][0]["code"] == "window-passed"
    assert dt.datetime.fromisoformat(closed.json()["closed_at"]) < dt.datetime.now(dt.UTC)
    correction = {**prescription(), "correction_reason": "补充"}
    late = await call(
        app, "POST", f"/api/prescriptions/{first['id']}/versions", visit.doctor, correction
    )
    assert late.status_code == 409
    # Voiding is not prescribing: the doctor may still withdraw what they issued.
    voided = await ok(
        app, "POST", f"/api/prescriptions/{first['id']}/void", visit.doctor, {"reason": "停药"}
    )
    assert voided["status"] == "voided"


async def test_nothing_for_a_visit_that_did_not_take_place(app: Litestar) -> None:
    visit = await booked_visit(app, starts_in=-dt.timedelta(minutes=15))
    await ok(app, "POST", visit.path + "/end", visit.doctor, {"outcome": "patient_no_show"})
    refused = await call(app, "POST", visit.path + "/prescriptions", visit.doctor, prescription())
    assert refused.status_code == 409
    assert (refused.json()["errors"][0]["code"], refused.json()["status_now"]) == (
        "not-completed",
        "no_show",
    )


async def test_a_suspended_doctor_does_not_prescribe(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    await app.state.services.db.execute(
        "UPDATE doctors SET status = 'suspended' WHERE id = $1", uuid.UUID(visit.doctor.id)
    )
    refused = await call(app, "POST", visit.path + "/prescriptions", visit.doctor, prescription())
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "doctor-not-approved"
