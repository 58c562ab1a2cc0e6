"""The OpenAPI document says what each operation may answer, in which media types, and how to
sign in, derived from what its route is; the whole contract is checked by schemathesis in
tests/test_openapi_contract.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar, get, post
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath

from medmarket.accounts.guards import AUTHENTICATION, PUBLIC, allow
from medmarket.errors import PROBLEM_JSON
from medmarket.openapi import answers, complete_openapi, responds_with
from medmarket.tests.support.fixtures import asgi_transport

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
async def document(app: Litestar) -> dict[str, Any]:
    transport = asgi_transport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    validate(document)


def test_signing_in_is_declared(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert (schemes["session"]["in"], schemes["session"]["name"]) == ("cookie", "mm_session")
    assert (schemes["csrf"]["in"], schemes["csrf"]["name"]) == ("header", "x-csrf-token")
    me = document["paths"]["/api/me"]
    assert me["get"]["security"] == [{"bearer": []}, {"session": []}]
    assert me["patch"]["security"] == [{"bearer": []}, {"session": [], "csrf": []}]
    assert "security" not in document["paths"]["/api/doctors"]["get"]


def test_every_problem_is_problem_json_with_the_problem_schema(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]
    for name, response in responses.items():
        assert list(response["content"]) == [PROBLEM_JSON], name
        assert response["content"][PROBLEM_JSON]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "instance", "errors"}
    assert set(problem["properties"]["errors"]["items"]["properties"]) == {
        "field",
        "message",
        "code",
    }
    assert responses["TooManyRequests"]["headers"]["Retry-After"]["required"] is True
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert "$ref" in response, (method, path, status)


def test_what_an_operation_may_answer_follows_from_its_route(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        statuses = set(operation["responses"])
        assert "503" in statuses, (method, path)
        if "security" in operation:
            assert {"401", "403"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if operation.get("requestBody") or any(
            p["in"] != "path" for p in operation.get("parameters", [])
        ):
            assert {"400", "422"} <= statuses, (method, path)
        if method != "GET":
            assert "409" in statuses, (method, path)
    upload = document["paths"]["/api/doctor/application/documents"]["post"]["responses"]
    assert {"413", "415"} <= set(upload)
    sign_in = document["paths"]["/api/tokens"]["post"]["responses"]
    assert {"401", "429"} <= set(sign_in)
    # The body names a slot and a patient, who may not exist.
    assert "404" in document["paths"]["/api/bookings"]["post"]["responses"]
    # The doctor's own application may not exist yet.
    assert "404" in document["paths"]["/api/doctor/application"]["get"]["responses"]
    assert "404" not in document["paths"]["/api/me"]["get"]["responses"]


def test_files_and_csv_declare_their_media_types(document: dict[str, Any]) -> None:
    download = document["paths"]["/api/patient-documents/{document_id}"]["get"]
    assert set(download["responses"]["200"]["content"]) == {
        "application/pdf",
        "image/jpeg",
        "image/png",
    }
    statement = document["paths"]["/api/settlements/doctor"]["get"]["responses"]["200"]
    assert set(statement["content"]) == {"application/json", "text/csv"}
    assert statement["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Statement"
    }
    sign_out = document["paths"]["/api/session"]["delete"]["responses"]["204"]
    assert "content" not in sign_out


def test_an_optional_query_parameter_is_not_nullable(document: dict[str, Any]) -> None:
    parameters = {
        p["name"]: p["schema"] for p in document["paths"]["/api/consultations"]["get"]["parameters"]
    }
    assert parameters["booking_id"] == {"type": "string", "format": "uuid"}
    assert parameters["status"]["type"] == "string"
    assert None not in parameters["status"]["enum"]


def test_the_schema_pages_are_not_operations(document: dict[str, Any]) -> None:
    assert not [path for path in document["paths"] if path.startswith("/schema")]


def test_a_route_declares_what_its_shape_does_not_say() -> None:
    @post("/token", opt={**PUBLIC, **answers(401, 429)}, status_code=200)
    async def token() -> dict[str, str]:
        return {}

    @get("/report/{report_id:int}", opt={**allow("operator"), **responds_with("text/csv")})
    async def report(report_id: FromPath[int]) -> str:
        return ""

    app = Litestar([token, report], openapi_config=OpenAPIConfig(title="t", version="1"))
    complete_openapi(app, AUTHENTICATION)
    paths = app.openapi_schema.to_schema()["paths"]
    assert set(paths["/token"]["post"]["responses"]) == {"200", "401", "409", "429", "503"}
    report_responses = paths["/report/{report_id}"]["get"]["responses"]
    assert set(report_responses) == {"200", "401", "403", "404", "503"}
    assert list(report_responses["200"]["content"]) == ["text/csv"]
    with pytest.raises(ValueError, match="answers"):
        answers(418)
