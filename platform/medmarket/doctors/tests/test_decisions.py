"""Every transition of the application: operators approve, reject (the doctor revises),
re-check, suspend and reinstate; a hospital admin ends an affiliation. Each move is audited,
kept in the history everyone concerned reads, and refused from a status it does not fit."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from medmarket.doctors.events import DOCTOR_SUSPENDED, DoctorSuspended
from medmarket.doctors.tests.helpers import (
    audit_actions,
    days,
    is_bookable,
    notifications,
    outbox,
    statuses,
)
from medmarket.tests.support.factories import (
    DoctorAccount,
    HospitalHandle,
    add_staff,
    approved_doctor,
    draft_doctor,
    hospital_with_demo_adapter,
    staff_record,
    submit,
)
from medmarket.tests.support.fixtures import Account, create_operator_account


@pytest.fixture
async def operator(app: Litestar) -> Account:
    return await create_operator_account(app)


async def in_review(app: Litestar, **record: Any) -> tuple[HospitalHandle, DoctorAccount]:
    """A doctor whose checks found something (2 years of practice unless said otherwise)."""
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, full_name="赵雷")
    changes = record or {"years_of_practice": 2}
    await add_staff(
        app,
        hospital,
        staff_record(licence_number=doctor.licence_number, full_name="赵雷", **changes),
    )
    assert (await submit(app, doctor))["status"] == "needs_review"
    return hospital, doctor


async def decide(
    http: httpx.AsyncClient, who: Account, doctor: DoctorAccount, action: str, **body: Any
) -> httpx.Response:
    if action != "recheck":
        body.setdefault("reason", f"{action}: 资料核实")
    return await http.post(
        f"/api/onboarding/doctors/{doctor.doctor_id}/{action}", headers=who.headers, json=body
    )


async def test_operator_approves_what_the_checks_could_not_settle(
    app: Litestar, http: httpx.AsyncClient, operator: Account
) -> None:
    # The hospital confirms the licence but not when independent practice began.
    _, doctor = await in_review(app, practice_started_on=None)
    queue = await http.get(
        "/api/onboarding/doctors",
        headers=operator.headers,
        params={"status": "needs_review", "limit": 100},
    )
    assert doctor.doctor_id in {item["id"] for item in queue.json()["items"]}
    approved = await decide(http, operator, doctor, "approve", reason="规培经历可折算执业年限")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    mine = (await http.get("/api/doctor/application", headers=doctor.headers)).json()
    assert mine["status_reason"] == "规培经历可折算执业年限"
    last = mine["history"][-1]
    assert (last["to_status"], last["actor_role"], last["reason"]) == (
        "approved",
        "operator",
        "规培经历可折算执业年限",
    )
    assert await is_bookable(app, doctor.doctor_id)
    [notice] = await notifications(app, doctor.user_id, "doctor.application.approved")
    assert notice.params["reason"] == "规培经历可折算执业年限"
    assert (await audit_actions(app, doctor.doctor_id))[-2:] == [
        "doctor.approved",
        "doctor.signing_key_created",
    ]


@pytest.mark.parametrize(
    ("record", "failed"),
    [
        ({"years_of_practice": 2}, ["practice_years"]),
        ({"licence_valid_days": -1}, ["licence_unexpired"]),
        ({"title": "住院医师"}, ["title"]),
    ],
)
async def test_an_operator_cannot_approve_against_a_failed_check(
    app: Litestar,
    http: httpx.AsyncClient,
    operator: Account,
    record: dict[str, Any],
    failed: list[str],
) -> None:
    _, doctor = await in_review(app, **record)
    refused = await decide(http, operator, doctor, "approve", reason="我担保")
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/checks-not-passed"
    assert refused.json()["checks"] == failed
    mine = (await http.get("/api/doctor/application", headers=doctor.headers)).json()
    assert mine["status"] == "needs_review"
    assert not await is_bookable(app, doctor.doctor_id)


async def test_an_application_still_being_verified_cannot_be_approved(
    app: Litestar, http: httpx.AsyncClient, operator: Account
) -> None:
    _, doctor = await in_review(app, practice_started_on=None)
    await app.state.services.db.execute(
        "UPDATE doctors SET status = 'verifying' WHERE id = $1", uuid.UUID(doctor.doctor_id)
    )
    early = await decide(http, operator, doctor, "approve")
    assert early.status_code == 409
    assert early.json()["status_now"] == "verifying"


async def test_rejected_doctor_sees_why_revises_and_applies_again(
    app: Litestar, http: httpx.AsyncClient, operator: Account
) -> None:
    hospital, doctor = await in_review(app)
    rejected = await decide(http, operator, doctor, "reject", reason="执业年限不足三年")
    assert rejected.json()["status"] == "rejected"
    mine = (await http.get("/api/doctor/application", headers=doctor.headers)).json()
    assert (mine["status_reason"], mine["actions"]) == ("执业年限不足三年", ["revise"])
    assert await notifications(app, doctor.user_id, "doctor.application.rejected")

    revised = await http.post("/api/doctor/application/revise", headers=doctor.headers)
    assert revised.json()["status"] == "draft"
    # Meanwhile the hospital corrected its record.
    await add_staff(
        app, hospital, staff_record(licence_number=doctor.licence_number, full_name="赵雷")
    )
    again = await submit(app, doctor)
    assert again["status"] == "approved"
    assert statuses(again) == [
        "draft",
        "submitted",
        "verifying",
        "needs_review",
        "rejected",
        "draft",
        "submitted",
        "verifying",
        "approved",
    ]


async def test_recheck_asks_the_hospital_again(
    app: Litestar, http: httpx.AsyncClient, operator: Account
) -> None:
    hospital, doctor = await in_review(app)
    await add_staff(
        app, hospital, staff_record(licence_number=doctor.licence_number, full_name="赵雷")
    )
    rechecked = await decide(http, operator, doctor, "recheck", note="医院已更正记录")
    body = rechecked.json()
    assert body["status"] == "approved"
    assert body["latest_checks"]["purpose"] == "recheck"
    assert statuses(body)[-3:] == ["needs_review", "verifying", "approved"]
    assert body["history"][-2]["reason"] == "医院已更正记录"
    runs = await http.get(
        f"/api/onboarding/doctors/{doctor.doctor_id}/checks", headers=operator.headers
    )
    assert [run["purpose"] for run in runs.json()] == ["recheck", "application"]
    assert [run["outcome"] for run in runs.json()] == ["passed", "failed"]


async def test_suspension_unlists_the_doctor_and_tells_booking(
    app: Litestar, http: httpx.AsyncClient, operator: Account
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await approved_doctor(app, hospital=hospital)
    suspended = await decide(http, operator, doctor, "suspend", reason="患者投诉调查期间")
    assert suspended.json()["status"] == "suspended"
    assert not await is_bookable(app, doctor.doctor_id)
    [event] = await outbox(app, DOCTOR_SUSPENDED, doctor_id=doctor.doctor_id)
    suspension = msgspec.convert(event, DoctorSuspended)
    assert (suspension.reason_code, suspension.reason) == ("operator_decision", "患者投诉调查期间")
    assert str(suspension.hospital_id) == hospital.id
    assert await notifications(app, doctor.user_id, "doctor.suspended")
    assert await notifications(app, hospital.admin.id, "hospital.doctor_suspended")

    reinstated = await decide(http, operator, doctor, "reinstate", reason="调查结束，无过错")
    assert reinstated.status_code == 200, reinstated.text
    assert reinstated.json()["status"] == "approved"
    assert reinstated.json()["latest_checks"]["purpose"] == "reinstatement"
    assert await is_bookable(app, doctor.doctor_id)
    assert await notifications(app, doctor.user_id, "doctor.reinstated")
    assert (await audit_actions(app, doctor.doctor_id))[-2:] == [
        "doctor.suspended",
        "doctor.reinstated",
    ]


async def test_reinstatement_waits_for_the_hospital_to_confirm_again(
    app: Litestar, http: httpx.AsyncClient, operator: Account
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await approved_doctor(app, hospital=hospital, full_name="钱进")
    await decide(http, operator, doctor, "suspend")
    await add_staff(
        app,
        hospital,
        staff_record(licence_number=doctor.licence_number, full_name="钱进", licence_valid_days=-3),
    )
    refused = await decide(http, operator, doctor, "reinstate")
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/checks-not-passed"
    assert refused.json()["checks"] == ["licence_unexpired"]
    shown = (
        await http.get(f"/api/onboarding/doctors/{doctor.doctor_id}", headers=operator.headers)
    ).json()
    assert shown["status"] == "suspended"
    # The refused attempt's checks are kept: they say why.
    assert shown["latest_checks"]["purpose"] == "reinstatement"
    assert shown["latest_checks"]["outcome"] == "failed"


async def test_hospital_admin_ends_an_affiliation(app: Litestar, http: httpx.AsyncClient) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await approved_doctor(app, hospital=hospital)
    ended = await http.post(
        f"/api/onboarding/doctors/{doctor.doctor_id}/end-affiliation",
        headers=hospital.admin.headers,
        json={"reason": "已离职"},
    )
    assert ended.status_code == 200, ended.text
    body = ended.json()
    assert (body["status"], body["status_reason_code"]) == (
        "suspended",
        "affiliation_ended_by_hospital",
    )
    assert body["affiliation_ends_on"] == days(0).isoformat()
    assert body["history"][-1]["actor_role"] == "hospital_admin"
    assert (await audit_actions(app, doctor.doctor_id))[-2:] == [
        "doctor.suspended",
        "doctor.affiliation_end_reported",
    ]
    assert await outbox(app, DOCTOR_SUSPENDED, doctor_id=doctor.doctor_id)


@pytest.mark.parametrize(
    ("prepare", "action", "status_now"),
    [
        ("approved", "approve", "approved"),
        ("approved", "reject", "approved"),
        ("approved", "recheck", "approved"),
        ("approved", "reinstate", "approved"),
        ("needs_review", "suspend", "needs_review"),
        ("needs_review", "end-affiliation", "needs_review"),
        ("draft", "reject", "draft"),
        ("draft", "approve", "draft"),
    ],
)
async def test_decisions_that_do_not_fit_the_status_are_refused(
    app: Litestar,
    http: httpx.AsyncClient,
    operator: Account,
    prepare: str,
    action: str,
    status_now: str,
) -> None:
    if prepare == "approved":
        doctor = await approved_doctor(app)
    elif prepare == "needs_review":
        _, doctor = await in_review(app)
    else:
        doctor = await draft_doctor(app, (await hospital_with_demo_adapter(app)).id)
    response = await decide(http, operator, doctor, action)
    assert response.status_code == 409, response.text
    assert response.json()["type"] == "/problems/wrong-status"
    assert response.json()["status_now"] == status_now
    shown = await http.get(f"/api/onboarding/doctors/{doctor.doctor_id}", headers=operator.headers)
    assert shown.json()["status"] == status_now


async def test_the_doctor_cannot_submit_twice_or_revise_an_approval(
    app: Litestar, http: httpx.AsyncClient
) -> None:
    doctor = await approved_doctor(app)
    again = await http.post("/api/doctor/application/submit", headers=doctor.headers)
    revise = await http.post("/api/doctor/application/revise", headers=doctor.headers)
    assert again.status_code == revise.status_code == 409


@pytest.mark.parametrize("reason", ["", "   "])
async def test_a_decision_needs_a_reason(
    app: Litestar, http: httpx.AsyncClient, operator: Account, reason: str
) -> None:
    _, doctor = await in_review(app)
    response = await decide(http, operator, doctor, "reject", reason=reason)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"


async def test_operators_list_and_page_through_doctors(
    app: Litestar, http: httpx.AsyncClient, operator: Account
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    made = {(await approved_doctor(app, hospital=hospital)).doctor_id for _ in range(3)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"hospital_id": hospital.id, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (
            await http.get("/api/onboarding/doctors", headers=operator.headers, params=params)
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 3
    for forged in (
        "%%%",
        # A well-formed cursor whose time cannot be stored, or has no offset.
        base64.urlsafe_b64encode(f"0001-01-01T00:00:00+08:00|{uuid.uuid4()}".encode()).decode(),
        base64.urlsafe_b64encode(f"2026-01-01T00:00:00|{uuid.uuid4()}".encode()).decode(),
    ):
        bad = await http.get(
            "/api/onboarding/doctors", headers=operator.headers, params={"cursor": forged}
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
