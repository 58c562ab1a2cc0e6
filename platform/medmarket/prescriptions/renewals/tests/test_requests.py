"""Who may ask for a renewal, of what and when, through the API: the patient's own chronic
follow-up prescription, neither voided, replaced nor rejected, within the window after its
visit (a renewal's window is its visit's), while they still have a chronic condition on
record and the doctor, still approved, renews prescriptions; one open request at a time.
Each refusal is a problem naming every reason."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from litestar import Litestar

from medmarket.db import Connection
from medmarket.prescriptions.renewals.tests.helpers import (
    NOTE,
    PRICE_FEN,
    Earlier,
    call,
    earlier_prescription,
    move_back,
    ok,
    pay_for,
    requested,
    visit_long_ago,
)
from medmarket.prescriptions.tests.helpers import prescription
from medmarket.tests.support.seed import ready_patient


async def refusal(app: Litestar, earlier: Earlier, status: int = 409) -> dict[str, Any]:
    refused = await call(app, "POST", earlier.renewals, earlier.patient, {"note": NOTE})
    assert refused.status_code == status, refused.text
    problem: dict[str, Any] = refused.json()
    return problem


def codes(problem: dict[str, Any]) -> list[str]:
    return [error["code"] for error in problem["errors"]]


async def test_only_the_patients_own_prescription(app: Litestar) -> None:
    earlier = await earlier_prescription(app)
    stranger = await ready_patient(app)
    refused = await call(app, "POST", earlier.renewals, stranger, {"note": NOTE})
    assert refused.status_code == 404
    assert refused.json()["detail"] == "no such prescription"
    missing = await call(
        app, "POST", f"/api/prescriptions/{uuid.uuid4()}/renewals", stranger, {"note": NOTE}
    )
    assert missing.status_code == 404 and missing.json()["detail"] == refused.json()["detail"]
    doctor = await call(app, "POST", earlier.renewals, earlier.doctor, {"note": NOTE})
    assert doctor.status_code == 403
    blank = await call(app, "POST", earlier.renewals, earlier.patient, {"note": ""})
    assert blank.status_code in (400, 422)


async def test_only_a_chronic_follow_up_of_a_patient_with_a_chronic_condition(
    app: Litestar,
) -> None:
    acute = await earlier_prescription(app, chronic_follow_up=False)
    problem = await refusal(app, acute)
    assert problem["type"] == "/problems/not-renewable"
    assert codes(problem) == ["not-chronic-follow-up"]
    assert problem["errors"][0]["field"] == "chronic_follow_up"
    # Never recorded: the safety rules refuse such a prescription when it is written
    # (chronic_follow_up), so the only way there is a record emptied since.
    # Recovered since: the record no longer names a chronic condition.
    recovered = await earlier_prescription(app)
    await ok(
        app,
        "PUT",
        f"/api/patients/{recovered.patient.id}/health",
        recovered.patient,
        {"allergies": [], "chronic_conditions": [], "current_medications": []},
    )
    assert codes(await refusal(app, recovered)) == ["no-chronic-condition"]


async def test_within_the_window_after_the_visit(app: Litestar, superuser: Connection) -> None:
    days = app.state.settings.renewal_window_days
    in_time = await earlier_prescription(app)
    await visit_long_ago(superuser, in_time, dt.timedelta(days=days - 1))
    assert (await requested(app, in_time))["status"] == "requested"
    too_late = await earlier_prescription(app)
    await visit_long_ago(superuser, too_late, dt.timedelta(days=days + 2))
    problem = await refusal(app, too_late)
    assert codes(problem) == ["window-passed"]
    assert dt.datetime.fromisoformat(problem["renewable_until"]) < dt.datetime.now(dt.UTC)


async def test_renewing_a_renewal_does_not_restart_the_window(
    app: Litestar, superuser: Connection
) -> None:
    days = app.state.settings.renewal_window_days
    earlier = await earlier_prescription(app)
    renewal, _ = await pay_for(app, earlier, await requested(app, earlier))
    answered = await ok(app, "POST", f"/api/renewals/{renewal['id']}/approve", earlier.doctor, {})
    renewed = Earlier(
        earlier.visit,
        await ok(app, "GET", f"/api/prescriptions/{answered['renewal_id']}", earlier.patient),
    )
    again = await requested(app, renewed)  # the renewal is renewed in its turn
    await ok(app, "POST", f"/api/renewals/{again['id']}/cancel", earlier.patient)
    # Its visit is now past the window, though the renewal itself was written today.
    await move_back(superuser, earlier.id, dt.timedelta(days=days + 2))
    assert codes(await refusal(app, renewed)) == ["window-passed"]


async def test_not_what_was_voided_replaced_or_rejected(
    app: Litestar, superuser: Connection
) -> None:
    voided = await earlier_prescription(app)
    await ok(app, "POST", f"/api/prescriptions/{voided.id}/void", voided.doctor, {"reason": "停药"})
    assert codes(await refusal(app, voided)) == ["voided"]

    corrected = await earlier_prescription(app)
    correction = {**prescription(chronic_follow_up=True), "correction_reason": "剂量"}
    version = await ok(
        app, "POST", f"/api/prescriptions/{corrected.id}/versions", corrected.doctor, correction
    )
    problem = await refusal(app, corrected)
    assert codes(problem) == ["replaced"] and version["id"] in problem["detail"]
    assert (await requested(app, Earlier(corrected.visit, version)))["status"] == "requested"

    rejected = await earlier_prescription(app)
    # A pharmacist's rejection, set as the review desk's trigger would never let anyone but
    # the desk do it (the desk's own tests go through it).
    async with superuser.transaction():
        await superuser.execute("SET LOCAL session_replication_role = replica")
        await superuser.execute(
            "UPDATE prescriptions SET status = 'rejected', status_changed_at = now() WHERE id = $1",
            uuid.UUID(rejected.id),
        )
    assert codes(await refusal(app, rejected)) == ["rejected"]


async def test_only_while_the_doctor_is_approved_and_renews(app: Litestar) -> None:
    unoffered = await earlier_prescription(app, offered=False)
    problem = await refusal(app, unoffered)
    assert codes(problem) == ["not-offered"] and problem["errors"][0]["field"] == "doctor_id"
    await ok(
        app,
        "PUT",
        "/api/doctor/offerings/renewal",
        unoffered.doctor,
        {"price_fen": PRICE_FEN, "active": False},
    )
    assert codes(await refusal(app, unoffered)) == ["not-offered"]

    suspended = await earlier_prescription(app)
    await app.state.services.db.execute(
        "UPDATE doctors SET status = 'suspended' WHERE id = $1", uuid.UUID(suspended.doctor.id)
    )
    assert codes(await refusal(app, suspended)) == ["doctor-not-approved"]


async def test_every_reason_at_once(app: Litestar) -> None:
    earlier = await earlier_prescription(app, chronic_follow_up=False, profile=None, offered=False)
    assert codes(await refusal(app, earlier)) == [
        "not-chronic-follow-up",
        "no-chronic-condition",
        "not-offered",
    ]


async def test_one_open_request_at_a_time(app: Litestar) -> None:
    earlier = await earlier_prescription(app)
    attempts = await asyncio.gather(
        *(call(app, "POST", earlier.renewals, earlier.patient, {"note": NOTE}) for _ in range(5))
    )
    assert sorted(r.status_code for r in attempts) == [201, 409, 409, 409, 409]
    [first] = [r.json() for r in attempts if r.status_code == 201]
    for second in (r.json() for r in attempts if r.status_code == 409):
        assert second["type"] == "/problems/renewal-already-open"
        assert second["renewal_id"] == first["id"]
    # Paid, it is still the open one; withdrawn before paying, another may be asked for.
    other = await earlier_prescription(app)
    unpaid = await requested(app, other)
    cancelled = await ok(app, "POST", f"/api/renewals/{unpaid['id']}/cancel", other.patient)
    assert cancelled["status"] == "cancelled" and cancelled["closed_at"]
    assert (await requested(app, other))["status"] == "requested"
    paid, _ = await pay_for(app, earlier, first)
    assert (await refusal(app, earlier))["renewal_id"] == paid["id"]
    too_late = await call(app, "POST", f"/api/renewals/{paid['id']}/cancel", earlier.patient)
    assert too_late.status_code == 409 and too_late.json()["status_now"] == "awaiting_doctor"
