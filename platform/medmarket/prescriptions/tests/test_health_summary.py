"""During the visit the doctor sees what prescribing needs of the patient's health record,
which until now only the patient could see: for the consultation's own doctor, only while
they may prescribe, every read audited."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Litestar

from medmarket.patients.service import age_on
from medmarket.prescriptions.tests.helpers import call, ok, visit_in_progress
from medmarket.tests.support.factories import platform_day
from medmarket.tests.support.seed import ready_patient

PROFILE = {
    "allergies": ["青霉素", "磺胺类"],
    "chronic_conditions": ["原发性高血压"],
    "current_medications": ["氨氯地平 5mg qd"],
}


async def test_the_doctor_sees_the_patients_record_while_prescribing(app: Litestar) -> None:
    patient = await ready_patient(app, date_of_birth="1968-04-02")
    await ok(app, "PUT", f"/api/patients/{patient.id}/health", patient, PROFILE)
    visit = await visit_in_progress(app, patient=patient)
    summary = await ok(app, "GET", visit.path + "/health-summary", visit.doctor)
    assert {k: summary[k] for k in PROFILE} == PROFILE
    assert summary["patient_id"] == patient.id and summary["sex"] is None
    assert summary["age_years"] == age_on(dt.date(1968, 4, 2), platform_day())
    assert summary["recorded_at"]
    assert summary["prescribing_until"] is None  # the visit is in progress
    reads = await app.state.services.db.fetch(
        "SELECT actor_id, subject_id FROM audit_events "
        "WHERE action = 'patient.health_summary_read' AND consultation_id = $1",
        uuid.UUID(visit.consultation_id),
    )
    assert [(str(r["actor_id"]), r["subject_id"]) for r in reads] == [
        (visit.doctor.account.id, patient.id)
    ]

    await ok(app, "POST", visit.path + "/end", visit.doctor, {"outcome": "completed"})
    after = await ok(app, "GET", visit.path + "/health-summary", visit.doctor)
    assert after["prescribing_until"] is not None
    await app.state.services.db.execute(
        "UPDATE consultations SET ended_at = now() - interval '2 days' WHERE id = $1",
        uuid.UUID(visit.consultation_id),
    )
    closed = await call(app, "GET", visit.path + "/health-summary", visit.doctor)
    assert closed.status_code == 409 and closed.json()["errors"][0]["code"] == "window-passed"


async def test_nothing_recorded_is_not_none(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    summary = await ok(app, "GET", visit.path + "/health-summary", visit.doctor)
    assert (summary["allergies"], summary["recorded_at"]) == ([], None)


async def test_only_the_consultations_doctor_reads_it(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    other = await visit_in_progress(app)
    for caller, status in (
        (other.doctor, 404),
        (visit.patient, 403),
        (await ready_patient(app), 403),
    ):
        response = await call(app, "GET", visit.path + "/health-summary", caller)
        assert response.status_code == status, response.text
