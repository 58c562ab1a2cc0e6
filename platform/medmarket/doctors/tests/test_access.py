"""Who sees a doctor's application: the doctor, operators, and their own hospital's admins.
An admin of hospital A acting on hospital B's doctor, or another doctor, gets exactly the
answer a doctor that does not exist gets."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket.tests.support.factories import (
    DoctorAccount,
    HospitalHandle,
    approved_doctor,
    hospital_with_demo_adapter,
)
from medmarket.tests.support.fixtures import Account, create_operator_account


def without_instance(response: httpx.Response) -> dict[str, Any]:
    """The problem document minus ``instance`` (the requested path, which differs)."""
    return {key: value for key, value in response.json().items() if key != "instance"}


@pytest.fixture
async def two_hospitals(
    app: Litestar,
) -> tuple[HospitalHandle, DoctorAccount, HospitalHandle, DoctorAccount]:
    ours = await hospital_with_demo_adapter(app)
    theirs = await hospital_with_demo_adapter(app)
    return (
        ours,
        await approved_doctor(app, hospital=ours),
        theirs,
        await approved_doctor(app, hospital=theirs),
    )


async def document_id(http: httpx.AsyncClient, doctor: DoctorAccount) -> str:
    mine = await http.get("/api/doctor/application", headers=doctor.headers)
    first: str = mine.json()["documents"][0]["id"]
    return first


READS = ("", "/checks")
ACTIONS = ("end-affiliation",)


async def test_an_admin_of_another_hospital_learns_nothing(
    http: httpx.AsyncClient, two_hospitals: Any
) -> None:
    ours, _, _, their_doctor = two_hospitals
    headers = ours.admin.headers
    missing = str(uuid.uuid4())
    their_document = await document_id(http, their_doctor)
    requests = [
        *[("GET", f"/api/onboarding/doctors/{{}}{suffix}", None) for suffix in READS],
        ("GET", f"/api/onboarding/doctors/{{}}/documents/{their_document}", None),
        *[
            ("POST", f"/api/onboarding/doctors/{{}}/{action}", {"reason": "离职"})
            for action in ACTIONS
        ],
    ]
    for method, template, body in requests:
        foreign = await http.request(
            method, template.format(their_doctor.doctor_id), headers=headers, json=body
        )
        absent = await http.request(method, template.format(missing), headers=headers, json=body)
        assert foreign.status_code == absent.status_code == 404, (template, foreign.text)
        assert without_instance(foreign) == without_instance(absent)
        assert their_doctor.full_name not in foreign.text
    # Nothing happened to their doctor.
    shown = await http.get(
        f"/api/onboarding/doctors/{their_doctor.doctor_id}", headers=their_doctor.headers
    )
    assert shown.json()["status"] == "approved"


async def test_an_admin_lists_only_their_own_hospitals_doctors(
    http: httpx.AsyncClient, two_hospitals: Any
) -> None:
    ours, our_doctor, theirs, _ = two_hospitals
    listed = await http.get(
        "/api/onboarding/doctors", headers=ours.admin.headers, params={"limit": 100}
    )
    assert {item["hospital_id"] for item in listed.json()["items"]} == {ours.id}
    assert our_doctor.doctor_id in {item["id"] for item in listed.json()["items"]}
    filtered = await http.get(
        "/api/onboarding/doctors", headers=ours.admin.headers, params={"hospital_id": theirs.id}
    )
    assert filtered.json() == {"items": [], "next_cursor": None}


async def test_an_admin_reads_their_doctors_history_and_documents(
    http: httpx.AsyncClient, two_hospitals: Any
) -> None:
    ours, our_doctor, _, _ = two_hospitals
    shown = await http.get(
        f"/api/onboarding/doctors/{our_doctor.doctor_id}", headers=ours.admin.headers
    )
    assert shown.status_code == 200
    assert [change["to_status"] for change in shown.json()["history"]][-1] == "approved"
    assert shown.json()["actions"] == ["end_affiliation"]
    document_path = (
        f"/api/onboarding/doctors/{our_doctor.doctor_id}/documents/"
        + await document_id(http, our_doctor)
    )
    document = await http.get(document_path, headers=ours.admin.headers)
    assert document.status_code == 200


async def test_another_doctor_learns_nothing(http: httpx.AsyncClient, two_hospitals: Any) -> None:
    _, our_doctor, _, their_doctor = two_hospitals
    missing = str(uuid.uuid4())
    for suffix in READS:
        foreign = await http.get(
            f"/api/onboarding/doctors/{their_doctor.doctor_id}{suffix}", headers=our_doctor.headers
        )
        absent = await http.get(
            f"/api/onboarding/doctors/{missing}{suffix}", headers=our_doctor.headers
        )
        assert foreign.status_code == absent.status_code == 404
        assert without_instance(foreign) == without_instance(absent)
    document = await document_id(http, their_doctor)
    stolen = await http.get(
        f"/api/onboarding/doctors/{their_doctor.doctor_id}/documents/{document}",
        headers=our_doctor.headers,
    )
    assert stolen.status_code == 404


async def test_operators_see_every_doctor(
    app: Litestar, http: httpx.AsyncClient, two_hospitals: Any
) -> None:
    operator: Account = await create_operator_account(app)
    _, our_doctor, _, their_doctor = two_hospitals
    for doctor in (our_doctor, their_doctor):
        shown = await http.get(
            f"/api/onboarding/doctors/{doctor.doctor_id}", headers=operator.headers
        )
        assert shown.status_code == 200
        assert shown.json()["actions"] == ["suspend", "end_affiliation"]


async def test_patients_and_pharmacists_are_refused(
    http: httpx.AsyncClient, sign_up: Any, two_hospitals: Any
) -> None:
    _, our_doctor, _, _ = two_hospitals
    for role in ("patient", "pharmacist"):
        account = await sign_up(role)
        response = await http.get(
            f"/api/onboarding/doctors/{our_doctor.doctor_id}", headers=account.headers
        )
        assert response.status_code == 403
