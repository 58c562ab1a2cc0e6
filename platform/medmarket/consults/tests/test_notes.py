"""The doctors' notes: every save a new version, nobody overwrites another's words unseen, the
record cannot be rewritten, and they close a day after the visit."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from litestar import Litestar

from medmarket.consults.tests.helpers import actions, booked_visit, call, ok
from medmarket.tests.support.seed import approved_doctor


async def test_notes_are_versioned_with_who_wrote_what_when(app: Litestar) -> None:
    visit = await booked_visit(app)
    colleague = await approved_doctor(app, full_name="李 超声", specialties=("超声科",))
    await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    first = {"base_version": 0, "complaint": "头晕两周", "findings": "血压 150/95"}
    before = await call(app, "POST", visit.path + "/notes", visit.doctor, first)
    assert before.status_code == 409 and before.json()["errors"][0]["code"] == "notes-closed"

    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    v1 = await ok(app, "POST", visit.path + "/notes", visit.doctor, first)
    assert v1["version"] == 1 and v1["author_id"] == visit.doctor.account.id
    v2 = await ok(
        app,
        "POST",
        visit.path + "/notes",
        colleague,
        {**first, "base_version": 1, "findings": "血压 150/95；颈动脉超声未见斑块"},
    )
    assert (v2["version"], v2["author_name"]) == (2, "李 超声")
    stale = await call(
        app,
        "POST",
        visit.path + "/notes",
        visit.doctor,
        {**first, "base_version": 1, "diagnosis": "高血压 2 级"},
    )
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    by_patient = await call(app, "POST", visit.path + "/notes", visit.patient, first)
    assert by_patient.status_code == 403

    read = await ok(app, "GET", visit.path + "/notes", visit.patient)
    assert read["current"] == v2
    assert [v["version"] for v in read["versions"]] == [1, 2]
    assert read["versions"][0]["findings"] == "血压 150/95"
    assert (await actions(app, visit.consultation_id)).count("consultation.notes_written") == 2


async def test_the_application_cannot_rewrite_a_note(app: Litestar) -> None:
    visit = await booked_visit(app)
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    await ok(
        app, "POST", visit.path + "/notes", visit.doctor, {"base_version": 0, "advice": "低盐"}
    )
    consultation = uuid.UUID(visit.consultation_id)
    for statement in (
        "UPDATE consultation_notes SET advice = 'x' WHERE consultation_id = $1",
        "DELETE FROM consultation_notes WHERE consultation_id = $1",
        "DELETE FROM consultation_messages WHERE consultation_id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.state.services.db.execute(statement, consultation)


async def test_notes_close_a_day_after_the_visit(app: Litestar) -> None:
    visit = await booked_visit(app)
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    await ok(app, "POST", visit.path + "/end", visit.doctor, {"outcome": "completed"})
    after = await ok(
        app, "POST", visit.path + "/notes", visit.doctor, {"base_version": 0, "advice": "复诊"}
    )
    assert after["version"] == 1
    await app.state.services.db.execute(
        "UPDATE consultations SET ended_at = now() - interval '25 hours' WHERE id = $1",
        uuid.UUID(visit.consultation_id),
    )
    closed = await call(
        app, "POST", visit.path + "/notes", visit.doctor, {"base_version": 1, "advice": "x"}
    )
    assert closed.status_code == 409
