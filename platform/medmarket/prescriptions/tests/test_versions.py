"""A signed prescription never changes: a correction is a new version that voids the one it
corrects, and a voided prescription says so (and what replaced it), and cannot be dispensed."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest
from litestar import Litestar

from medmarket.prescriptions.states import NotDispensable, require_dispensable
from medmarket.prescriptions.tests.helpers import (
    METFORMIN,
    call,
    item,
    ok,
    prescribe,
    prescription,
    visit_in_progress,
)


def correction(reason: str = "剂量写错，改为每日两次", **changes: object) -> dict[str, object]:
    return {
        **prescription(item(frequency="bid", quantity="14")),
        "correction_reason": reason,
        **changes,
    }


async def test_a_correction_is_a_new_version_that_voids_the_old(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    first = await prescribe(app, visit)
    path = f"/api/prescriptions/{first['id']}"
    second = await ok(app, "POST", path + "/versions", visit.doctor, correction())
    assert (second["version"], second["supersedes"], second["status"]) == (2, first["id"], "issued")
    assert second["items"][0]["frequency"] == "bid"

    old = await ok(app, "GET", path, visit.patient)
    assert (old["status"], old["standing"], old["replaced_by"]) == (
        "voided",
        "replaced",
        second["id"],
    )
    assert old["void_reason"] == "剂量写错，改为每日两次" and old["voided_at"]
    # What it said is what it says: only its standing changed.
    assert old["items"] == first["items"] and old["document_sha256"] == first["document_sha256"]

    again = await call(app, "POST", path + "/versions", visit.doctor, correction())
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/wrong-prescription-status"
    assert again.json()["status_now"] == "voided"

    third = await ok(
        app,
        "POST",
        f"/api/prescriptions/{second['id']}/versions",
        visit.doctor,
        correction(
            "加用二甲双胍", items=[item(), item(drug_id=METFORMIN, dose="0.5", dose_unit="g")]
        ),
    )
    assert (third["version"], third["supersedes"]) == (3, second["id"])
    listed = await ok(app, "GET", visit.path + "/prescriptions", visit.patient)
    assert [(p["version"], p["standing"]) for p in listed] == [
        (1, "replaced"),
        (2, "replaced"),
        (3, "awaiting_review"),
    ]


async def test_a_correction_needs_its_reason(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    first = await prescribe(app, visit)
    path = f"/api/prescriptions/{first['id']}/versions"
    for body in (prescription(), {**prescription(), "correction_reason": ""}):
        refused = await call(app, "POST", path, visit.doctor, body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "correction_reason"


async def test_the_doctor_voids_with_a_reason_once(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    path = f"/api/prescriptions/{issued['id']}"
    blank = await call(app, "POST", path + "/void", visit.doctor, {"reason": ""})
    assert blank.status_code == 422
    voided = await ok(app, "POST", path + "/void", visit.doctor, {"reason": "患者已有同类药物"})
    assert (voided["status"], voided["standing"], voided["replaced_by"]) == (
        "voided",
        "voided",
        None,
    )
    assert voided["void_reason"] == "患者已有同类药物"
    twice = await call(app, "POST", path + "/void", visit.doctor, {"reason": "again"})
    assert twice.status_code == 409 and twice.json()["status_now"] == "voided"
    corrected = await call(app, "POST", path + "/versions", visit.doctor, correction())
    assert corrected.status_code == 409  # write a new prescription instead


async def test_a_voided_prescription_cannot_be_dispensed_and_names_its_successor(
    app: Litestar,
) -> None:
    visit = await visit_in_progress(app)
    first = await prescribe(app, visit)
    second = await ok(
        app, "POST", f"/api/prescriptions/{first['id']}/versions", visit.doctor, correction()
    )
    db = app.state.services.db  # as the application: the review desk will work so
    row = await db.fetchrow(
        "SELECT status, expires_at, (SELECT id FROM prescriptions n WHERE n.supersedes = p.id) "
        "AS replaced_by FROM prescriptions p WHERE id = $1",
        uuid.UUID(first["id"]),
    )
    with pytest.raises(NotDispensable) as refused:
        require_dispensable(
            row["status"], row["expires_at"], row["replaced_by"], dt.datetime.now(dt.UTC)
        )
    problem = refused.value.body()
    assert problem["errors"][0]["code"] == "replaced" and problem["replaced_by"] == second["id"]
    assert "replaced it" in problem["detail"]
    for target in ("approved", "dispensed", "issued"):
        with pytest.raises(asyncpg.CheckViolationError, match="cannot go from voided"):
            await db.execute(
                "UPDATE prescriptions SET status = $2 WHERE id = $1", uuid.UUID(first["id"]), target
            )
    # The version that replaced it goes through review and is dispensed.
    for target in ("approved", "dispensed"):
        await db.execute(
            "UPDATE prescriptions SET status = $2, status_changed_at = now() WHERE id = $1",
            uuid.UUID(second["id"]),
            target,
        )
    dispensed = await ok(app, "GET", f"/api/prescriptions/{second['id']}", visit.patient)
    assert dispensed["standing"] == "dispensed"
    late = await call(
        app, "POST", f"/api/prescriptions/{second['id']}/void", visit.doctor, {"reason": "太迟"}
    )
    assert late.status_code == 409 and late.json()["status_now"] == "dispensed"
