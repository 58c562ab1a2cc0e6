"""A hospital connects its FHIR server through the platform's API and a doctor is approved
from what that server says; a slow server leaves the application to an operator. The
platform reaches the test server on 127.0.0.1 only with the operator's allow-list
(``fhir_app``); without it (``app``) a hospital admin's base URL cannot probe loopback."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from fhir_hospital_tests.server import LICENCE_SYSTEM, ORGANIZATION, practitioner, role
from litestar import Litestar
from medmarket_hospital_fhir import UNREACHABLE

from medmarket.testing.http_recorder import Reply
from medmarket.tests.support.factories import draft_doctor, hospital_with_demo_adapter, submit
from medmarket.tests.support.fixtures import client_for

TOKEN = "his-secret-token-42"


async def put_fhir(app: Litestar, hospital: Any, base_url: str, **changes: Any) -> httpx.Response:
    async with client_for(app) as http:
        return await http.put(
            f"/api/hospitals/{hospital.id}/adapter",
            headers=hospital.admin.headers,
            json={
                "type": "fhir-r4",
                "config": {
                    "base_url": base_url,
                    "licence_system": LICENCE_SYSTEM,
                    "organization_id": ORGANIZATION,
                    "bearer_token": TOKEN,
                    **changes,
                },
            },
        )


async def connect_fhir(
    app: Litestar, hospital: Any, base_url: str, **changes: Any
) -> dict[str, Any]:
    response = await put_fhir(app, hospital, base_url, **changes)
    assert response.status_code == 200, response.text
    connected: dict[str, Any] = response.json()
    return connected


async def run_adapter_test(app: Litestar, hospital: Any) -> dict[str, Any]:
    async with client_for(app) as http:
        tested = await http.post(
            f"/api/hospitals/{hospital.id}/adapter/test", headers=hospital.admin.headers
        )
    assert tested.status_code == 200, tested.text
    result: dict[str, Any] = tested.json()
    return result


async def test_a_doctor_is_approved_from_the_hospitals_fhir_server(
    fhir_app: Litestar, fhir_server: Any
) -> None:
    app = fhir_app
    hospital = await hospital_with_demo_adapter(app)
    configured = await connect_fhir(app, hospital, fhir_server.base_url)
    assert TOKEN not in str(configured) and configured["secrets_set"] == ["bearer_token"]
    async with client_for(app) as http:
        tested = await http.post(
            f"/api/hospitals/{hospital.id}/adapter/test", headers=hospital.admin.headers
        )
    assert tested.json()["healthy"] is True and "4.0.1" in tested.json()["detail"]

    doctor = await draft_doctor(app, hospital, full_name="陈静", title="主治医师")
    fhir_server.add(
        practitioner("p7", doctor.licence_number, "陈", "静", title="主治医师"),
        role("r7", "p7", specialties=("儿科",)),
    )
    application = await submit(app, doctor)
    assert application["status"] == "approved", application["latest_checks"]
    assert application["licence_expires_on"] == "2031-06-30"
    assert application["department"] == "儿科"
    checks = {c["kind"]: c for c in application["latest_checks"]["checks"]}
    assert (
        checks["affiliation"]["evidence"]["hospital"]["practitioner_role"] == "PractitionerRole/r7"
    )
    assert checks["licence_valid"]["evidence"]["hospital"]["practitioner"] == "Practitioner/p7"
    assert all(
        r.headers.get("authorization") == f"Bearer {TOKEN}" for r in fhir_server.recorder.requests
    )


async def test_a_slow_fhir_server_leaves_the_application_to_an_operator(
    fhir_app: Litestar, fhir_server: Any
) -> None:
    app = fhir_app
    hospital = await hospital_with_demo_adapter(app)
    await connect_fhir(app, hospital, fhir_server.base_url, timeout_seconds=0.2)
    doctor = await draft_doctor(app, hospital, full_name="陈静")
    fhir_server.add(practitioner("p8", doctor.licence_number, "陈", "静"), role("r8", "p8"))
    fhir_server.override = lambda request: Reply(delay=2.0, body={})
    application = await submit(app, doctor)
    assert application["status"] == "needs_review"
    assert {c["code"] for c in application["latest_checks"]["checks"]} == {"hospital_unavailable"}


async def test_a_hospital_admin_cannot_tell_open_loopback_ports_from_closed_ones(
    app: Litestar, fhir_server: Any, closed_port: int
) -> None:
    assert app.state.services.settings.outbound_allowed_networks == []
    hospital = await hospital_with_demo_adapter(app)
    with socket.socket() as bare:  # an open port that notes any connection
        bare.bind(("127.0.0.1", 0))
        bare.listen(8)
        bare.setblocking(False)
        targets = {
            "FHIR server": fhir_server.base_url,
            "open port": f"http://127.0.0.1:{bare.getsockname()[1]}/fhir",
            "closed port": f"http://127.0.0.1:{closed_port}/fhir",
            "by name": f"http://localhost:{closed_port}/fhir",
        }
        answers = {}
        for name, base_url in targets.items():
            await connect_fhir(app, hospital, base_url)
            answers[name] = await run_adapter_test(app, hospital)
        with pytest.raises(BlockingIOError):
            bare.accept()  # no connection was even attempted
    assert fhir_server.recorder.requests == []
    assert all(answer == {"healthy": False, "detail": UNREACHABLE} for answer in answers.values())


async def test_the_operators_allow_list_lets_a_private_hospital_network_through(
    fhir_app: Litestar, fhir_server: Any
) -> None:
    assert fhir_app.state.services.settings.outbound_allowed_networks == ["127.0.0.1/32"]
    hospital = await hospital_with_demo_adapter(fhir_app)
    await connect_fhir(fhir_app, hospital, fhir_server.base_url)
    answer = await run_adapter_test(fhir_app, hospital)
    assert answer["healthy"] is True and "4.0.1" in answer["detail"]


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://his.example-hospital.cn/fhir",
        "https://his-user:password@his.example-hospital.cn/fhir",
        "https://his.example-hospital.cn:99999/fhir",
        "https://his.example-hospital.cn/fhir?_format=json",
        "his.example-hospital.cn/fhir",
    ],
)
async def test_a_base_url_that_is_not_a_plain_http_url_is_refused_when_saved(
    app: Litestar, base_url: str
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    response = await put_fhir(app, hospital, base_url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == ["config.base_url"]


async def test_an_applicant_with_two_current_roles_keeps_the_department_applied_for(
    fhir_app: Litestar, fhir_server: Any
) -> None:
    hospital = await hospital_with_demo_adapter(fhir_app)
    await connect_fhir(fhir_app, hospital, fhir_server.base_url)
    doctor = await draft_doctor(
        fhir_app, hospital, full_name="陈静", department="儿科", specialties=("儿科",)
    )
    fhir_server.add(
        practitioner("p9", doctor.licence_number, "陈", "静", title="主治医师"),
        role("r9-cardio", "p9", start="2012-01-01", specialties=("心内科",)),
        role("r9-paed", "p9", start="2019-01-01", specialties=("儿科",)),
    )
    application = await submit(fhir_app, doctor)
    assert application["status"] == "approved", application["latest_checks"]
    assert application["department"] == "儿科"
    checks = {c["kind"]: c for c in application["latest_checks"]["checks"]}
    evidence = checks["affiliation"]["evidence"]["hospital"]
    assert evidence["practitioner_role"] == "PractitionerRole/r9-paed"
    # The licence and the affiliation check asked one Practitioner search between them.
    searches = [
        r for r in fhir_server.recorder.requests if r.path.startswith("/fhir/Practitioner?")
    ]
    assert len(searches) == 1
