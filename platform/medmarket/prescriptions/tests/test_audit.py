"""Everything a prescription goes through is in the audit trail, with who and when, and in the
consultation's trace operators read: written and issued (the document's digest), corrected
and voided (the reason, what replaced it), and every read of the patient's health record."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Litestar

from medmarket.prescriptions.tests.helpers import ok, prescribe, prescription, visit_in_progress
from medmarket.tests.support.fixtures import create_operator_account


async def trail(app: Litestar, consultation_id: str) -> list[dict[str, Any]]:
    rows = await app.state.services.db.fetch(
        "SELECT action, actor_id, actor_role, subject_type, subject_id, occurred_at, detail "
        "FROM audit_events WHERE consultation_id = $1 AND (action LIKE 'prescription.%' "
        "OR action LIKE 'patient.%') ORDER BY id",
        uuid.UUID(consultation_id),
    )
    return [dict(row) for row in rows]


async def test_the_audit_trail_of_a_prescription(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    before = dt.datetime.now(dt.UTC)
    await ok(app, "GET", visit.path + "/health-summary", visit.doctor)
    first = await prescribe(app, visit)
    second = await ok(
        app,
        "POST",
        f"/api/prescriptions/{first['id']}/versions",
        visit.doctor,
        {**prescription(valid_days=2), "correction_reason": "延长有效期"},
    )
    await ok(
        app, "POST", f"/api/prescriptions/{second['id']}/void", visit.doctor, {"reason": "停药"}
    )
    events = await trail(app, visit.consultation_id)
    assert [(e["action"], e["subject_type"], e["subject_id"]) for e in events] == [
        ("patient.health_summary_read", "patient", visit.patient.id),
        ("prescription.written", "prescription", first["id"]),
        ("prescription.issued", "prescription", first["id"]),
        ("prescription.written", "prescription", second["id"]),
        ("prescription.issued", "prescription", second["id"]),
        ("prescription.voided", "prescription", first["id"]),
        ("prescription.voided", "prescription", second["id"]),
    ]
    for event in events:
        assert (str(event["actor_id"]), event["actor_role"]) == (visit.doctor.account.id, "doctor")
        assert before <= event["occurred_at"] <= dt.datetime.now(dt.UTC)
    written, issued = events[3]["detail"], events[4]["detail"]
    assert written["version"] == 2 and written["supersedes"] == first["id"]
    assert written["drugs"] == [i["drug"]["id"] for i in second["items"]]
    assert issued["document_sha256"] == second["document_sha256"]
    assert (issued["valid_from"], issued["valid_until"]) == (
        second["valid_from"],
        second["valid_until"],
    )
    corrected, withdrawn = events[5]["detail"], events[6]["detail"]
    assert corrected == {
        "from": "issued",
        "to": "voided",
        "reason": "延长有效期",
        "replaced_by": second["id"],
    }
    assert withdrawn == {"from": "issued", "to": "voided", "reason": "停药"}

    # Operators answering the regulator find them in the consultation's trace.
    operator = await create_operator_account(app)
    trace = await ok(
        app, "GET", f"/api/operator/consultations/{visit.consultation_id}/trace", operator
    )
    traced = [e["action"] for e in trace["events"]]
    assert [a for a in traced if a.startswith(("prescription.", "patient."))] == [
        e["action"] for e in events
    ]
