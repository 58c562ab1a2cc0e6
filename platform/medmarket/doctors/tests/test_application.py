"""A doctor applies: the application is validated with the fields named, submitted with its
documents, and checked with the hospital at once. Every check that fails (or cannot be
made) sends the application to an operator with the check's result and evidence."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket.doctors.messages import KIND_NAMES
from medmarket.doctors.tests.conftest import UNRELIABLE_TIMEOUT_SECONDS
from medmarket.doctors.tests.helpers import (
    audit_actions,
    checks_by_kind,
    days,
    is_bookable,
    notifications,
    statuses,
)
from medmarket.tests.support.factories import (
    add_staff,
    draft_doctor,
    hospital_with_demo_adapter,
    set_staff,
    staff_record,
    submit,
    unique_licence_number,
)
from medmarket.tests.support.fixtures import client_for, create_operator_account, sign_up_and_in


def application_body(hospital: str, **changes: Any) -> dict[str, Any]:
    return {
        "hospital_id": hospital,
        "full_name": "张 明",
        "licence_number": unique_licence_number(),
        "title": "主治医师",
        "specialties": ["心内科"],
        **changes,
    }


async def test_a_doctor_whose_every_check_passes_is_approved(app: Litestar) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, full_name="王 芳", specialties=("儿科",))
    await add_staff(
        app,
        hospital,
        staff_record(
            licence_number=doctor.licence_number,
            full_name="王芳",  # the registry writes the name without the space
            department="儿科",
            specialties=("儿科",),
        ),
    )
    assert not await is_bookable(app, doctor.doctor_id)
    application = await submit(app, doctor)

    assert application["status"] == "approved"
    assert statuses(application) == ["draft", "submitted", "verifying", "approved"]
    assert application["status_reason_code"] == "all_checks_passed"
    run = application["latest_checks"]
    assert run["outcome"] == "passed" and run["purpose"] == "application"
    assert [c["kind"] for c in run["checks"]] == [
        "licence_valid",
        "licence_unexpired",
        "practice_years",
        "title",
        "affiliation",
    ]
    evidence = checks_by_kind(application)["licence_valid"]["evidence"]["hospital"]
    assert evidence == {
        "registry": hospital.hospital_code,
        "staff_record": doctor.licence_number,
        "match": "licence and name",
    }
    # What the hospital confirmed is kept with the doctor.
    assert application["practice_started_on"] is not None
    assert application["licence_expires_on"] is not None
    assert application["department"] == "儿科"
    assert application["verified_at"] is not None and application["decided_at"] is not None
    assert await is_bookable(app, doctor.doctor_id)
    [notice] = await notifications(app, doctor.user_id, "doctor.application.approved")
    assert notice.recipient.user_id == doctor.user_id
    assert await audit_actions(app, doctor.doctor_id) == [
        "doctor.application_created",
        "doctor.document_uploaded",
        "doctor.document_uploaded",
        "doctor.application_submitted",
        "doctor.verification_started",
        "doctor.approved",
        "doctor.signing_key_created",  # in the same transaction (test_signing_keys.py)
    ]


FAILED_CHECKS: dict[str, tuple[dict[str, Any], str, str]] = {
    "expired licence": (
        {"licence_valid_days": -1},
        "licence_unexpired",
        "licence_expired",
    ),
    "two years of practice": ({"years_of_practice": 2}, "practice_years", "practice_too_short"),
    "no affiliation": ({"affiliated": False}, "affiliation", "not_affiliated"),
    "affiliation ended": (
        {"affiliation_ends_on": days(-1)},
        "affiliation",
        "affiliation_ended",
    ),
    "affiliation not begun": (
        {"affiliated_since": days(10)},
        "affiliation",
        "affiliation_not_started",
    ),
    "revoked licence": ({"licence_active": False}, "licence_valid", "licence_not_confirmed"),
    "title differs": ({"title": "主任医师"}, "title", "title_mismatch"),
    "name differs": ({"full_name": "张明明"}, "licence_valid", "licence_not_confirmed"),
}


@pytest.mark.parametrize("case", FAILED_CHECKS)
async def test_each_failed_check_sends_the_application_to_review(app: Litestar, case: str) -> None:
    changes, kind, code = FAILED_CHECKS[case]
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, full_name="张明")
    record = staff_record(
        **{"licence_number": doctor.licence_number, "full_name": "张明", **changes}
    )
    await add_staff(app, hospital, record)
    application = await submit(app, doctor)

    assert application["status"] == "needs_review", case
    assert statuses(application)[-1] == "needs_review"
    checks = checks_by_kind(application)
    assert (checks[kind]["outcome"], checks[kind]["code"]) == ("failed", code)
    assert checks[kind]["message"]  # in words, for the reviewer and the doctor
    # The doctor is told which checks an operator will look at.
    assert KIND_NAMES[kind]["zh-CN"] in application["status_reason"]
    assert application["history"][-1]["reason_code"] == "checks_need_review"
    assert not await is_bookable(app, doctor.doctor_id)
    assert await notifications(app, doctor.user_id, "doctor.application.needs_review")


async def test_two_years_of_practice_say_how_many(app: Litestar) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, full_name="李雷")
    await add_staff(
        app,
        hospital,
        staff_record(licence_number=doctor.licence_number, full_name="李雷", years_of_practice=2),
    )
    check = checks_by_kind(await submit(app, doctor))["practice_years"]
    assert check["params"]["years"] == 2 and check["params"]["required"] == 3
    assert "2" in check["message"] and "3" in check["message"]


async def test_an_unknown_licence_is_not_confirmed(app: Litestar) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital)
    application = await submit(app, doctor)
    checks = checks_by_kind(application)
    assert checks["licence_valid"]["outcome"] == "failed"
    assert checks["licence_valid"]["evidence"]["hospital"]["match"] == "none"
    assert checks["affiliation"]["outcome"] == "failed"
    # What depends on a confirmed licence cannot be judged.
    assert checks["practice_years"]["outcome"] == "inconclusive"
    assert application["status"] == "needs_review"


@pytest.mark.parametrize("adapter", ["down", "hanging"])
async def test_a_hospital_that_is_down_or_hangs_leaves_the_checks_open(
    unreliable_app: Litestar, adapter: str
) -> None:
    hospital = await hospital_with_demo_adapter(unreliable_app)
    async with client_for(unreliable_app) as http:
        configured = await http.put(
            f"/api/hospitals/{hospital.id}/adapter",
            headers=hospital.admin.headers,
            json={"type": adapter, "config": {}},
        )
        assert configured.status_code == 200, configured.text
    doctor = await draft_doctor(unreliable_app, hospital)
    started = time.monotonic()
    application = await submit(unreliable_app, doctor)
    elapsed = time.monotonic() - started

    assert application["status"] == "needs_review"
    checks = application["latest_checks"]["checks"]
    assert {(c["outcome"], c["code"]) for c in checks} == {("inconclusive", "hospital_unavailable")}
    errors = {
        c["evidence"]["error"] for c in checks if c["kind"] in ("licence_valid", "affiliation")
    }
    expected = "did not answer within" if adapter == "hanging" else "failed"
    assert all(expected in error for error in errors), errors
    # Both questions are asked at once, each within the plugin timeout.
    assert elapsed < UNRELIABLE_TIMEOUT_SECONDS * 4


async def test_a_hospital_without_an_adapter_leaves_the_checks_open(
    app: Litestar, http: httpx.AsyncClient
) -> None:
    operator = await create_operator_account(app)
    created = await http.post(
        "/api/hospitals",
        headers=operator.headers,
        json={
            "name": f"未接入医院 {uuid.uuid4().hex[:6]}",
            "level": "二级甲等",
            "region": "甘肃省",
        },
    )
    doctor = await draft_doctor(app, created.json()["id"])
    application = await submit(app, doctor)
    assert application["status"] == "needs_review"
    assert {c["code"] for c in application["latest_checks"]["checks"]} == {"hospital_not_connected"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"licence_number": "12 34"}, "licence_number"),
        ({"licence_number": "ab"}, "licence_number"),
        ({"title": "教授"}, "title"),
        ({"specialties": []}, "specialties"),
        ({"specialties": ["  "]}, "specialties"),
        ({"full_name": "   "}, "full_name"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"languages": ["Chinese!"]}, "languages[0]"),
        ({"hospital_id": str(uuid.uuid4())}, "hospital_id"),
        ({"is_approved": True}, "is_approved"),
    ],
)
async def test_bad_application_fields_are_named(
    app: Litestar, http: httpx.AsyncClient, changes: dict[str, Any], field: str
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    account = await sign_up_and_in(http, "doctor")
    response = await http.put(
        "/api/doctor/application",
        headers=account.headers,
        json=application_body(hospital.id, **changes),
    )
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_a_draft_changes_until_it_is_submitted(
    app: Litestar, http: httpx.AsyncClient
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital)
    body = application_body(
        hospital.id, licence_number=f" {doctor.licence_number.lower()} ", specialties=["皮肤科"]
    )
    changed = await http.put("/api/doctor/application", headers=doctor.headers, json=body)
    assert changed.status_code == 200
    assert changed.json()["specialties"] == ["皮肤科"]
    assert changed.json()["licence_number"] == doctor.licence_number  # trimmed
    assert statuses(changed.json()) == ["draft"]
    await submit(app, doctor)
    late = await http.put("/api/doctor/application", headers=doctor.headers, json=body)
    assert late.status_code == 409
    assert late.json()["status_now"] == "needs_review"


async def test_one_live_application_per_licence(app: Litestar, http: httpx.AsyncClient) -> None:
    hospital = await hospital_with_demo_adapter(app)
    first = await draft_doctor(app, hospital)
    second = await sign_up_and_in(http, "doctor")
    response = await http.put(
        "/api/doctor/application",
        headers=second.headers,
        json=application_body(hospital.id, licence_number=first.licence_number),
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "licence_number"


async def test_submitting_needs_the_licence_and_the_id(
    app: Litestar, http: httpx.AsyncClient
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, with_documents=False)
    response = await http.post("/api/doctor/application/submit", headers=doctor.headers)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("documents", "missing-documents")
    assert "licence" in error["message"] and "identity" in error["message"]
    mine = await http.get("/api/doctor/application", headers=doctor.headers)
    assert mine.json()["status"] == "draft"


async def test_no_application_yet_is_a_clear_404(http: httpx.AsyncClient) -> None:
    account = await sign_up_and_in(http, "doctor")
    response = await http.get("/api/doctor/application", headers=account.headers)
    assert response.status_code == 404
    assert "not applied" in response.json()["detail"]


async def test_an_english_speaking_doctor_reads_the_checks_in_english(
    app: Litestar, http: httpx.AsyncClient
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, full_name="Anna Li")
    await add_staff(
        app,
        hospital,
        staff_record(
            licence_number=doctor.licence_number, full_name="Anna Li", years_of_practice=1
        ),
    )
    await app.state.services.db.execute(
        "UPDATE users SET locale = 'en' WHERE id = $1::uuid", doctor.user_id
    )
    await submit(app, doctor)
    mine = (await http.get("/api/doctor/application", headers=doctor.headers)).json()
    check = checks_by_kind(mine)["practice_years"]
    assert check["message"].startswith("Independent practice since")
    assert "operator will review" in mine["status_reason"]


async def test_the_registry_can_be_replaced_whole(app: Litestar) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, full_name="周杰")
    await set_staff(
        app, hospital, [staff_record(licence_number=doctor.licence_number, full_name="周杰")]
    )
    assert (await submit(app, doctor))["status"] == "approved"
