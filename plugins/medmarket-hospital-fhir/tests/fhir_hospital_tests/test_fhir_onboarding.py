"""A hospital connects its FHIR server through the platform's API and a doctor is approved
from what that server says; a slow server leaves the application to an operator."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from medmarket.testing.factories import draft_doctor, hospital_with_demo_adapter, submit
from medmarket.testing.fixtures import client_for
from medmarket.testing.http_recorder import Reply

from .conftest import LICENCE_SYSTEM, ORGANIZATION, practitioner, role

TOKEN = "his-secret-token-42"


async def connect_fhir(
    app: Litestar, hospital: Any, base_url: str, **changes: Any
) -> dict[str, Any]:
    async with client_for(app) as http:
        response = await http.put(
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
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_doctor_is_approved_from_the_hospitals_fhir_server(
    app: Litestar, fhir_server: Any
) -> None:
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
    app: Litestar, fhir_server: Any
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    await connect_fhir(app, hospital, fhir_server.base_url, timeout_seconds=0.2)
    doctor = await draft_doctor(app, hospital, full_name="陈静")
    fhir_server.add(practitioner("p8", doctor.licence_number, "陈", "静"), role("r8", "p8"))
    fhir_server.override = lambda request: Reply(delay=2.0, body={})
    application = await submit(app, doctor)
    assert application["status"] == "needs_review"
    assert {c["code"] for c in application["latest_checks"]["checks"]} == {"hospital_unavailable"}
