"""Values PostgreSQL cannot store are refused with their field named, never a 500."""

from __future__ import annotations

import asyncpg
import httpx
from litestar import Litestar, get

from medmarket.accounts.guards import PUBLIC, access_guard
from medmarket.errors import EXCEPTION_HANDLERS, PROBLEM_JSON
from medmarket.tests.support.fixtures import Account, asgi_transport, unique_email
from medmarket.text_guard import fields_with_nul


def test_the_field_holding_a_nul_is_found_however_deep() -> None:
    document = {"name": "ok", "family": [{"name": "fine"}, {"notes": ["a", "b\x00"]}]}
    assert list(fields_with_nul(document)) == ["family[1].notes[1]"]
    assert list(fields_with_nul({"bad\x00key": 1})) == ["bad\x00key"]
    assert list(fields_with_nul({"clean": ["text", 3, None]})) == []


async def test_a_nul_in_a_json_field_is_named_and_nothing_is_stored(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    email = unique_email()
    response = await client.post(
        "/api/accounts",
        json={"email": email, "password": "correct horse battery 9", "display_name": "王\x00五"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert [e["field"] for e in response.json()["errors"]] == ["display_name"]
    stored = await app.state.services.db.fetchval(
        "SELECT count(*) FROM users WHERE email = $1", email
    )
    assert stored == 0


async def test_a_nul_in_the_query_or_a_form_is_named(client: httpx.AsyncClient) -> None:
    search = await client.get("/api/doctors", params={"q": "李\x00"})
    assert search.status_code == 422
    assert search.json()["errors"][0]["field"] == "q"
    form = await client.post(
        "/sign-in",
        content=b"email=a%00b%40example.org&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 422
    assert form.json()["errors"][0]["field"] == "email"


async def test_numbers_beyond_what_the_database_holds_are_refused(
    client: httpx.AsyncClient, operator: Account
) -> None:
    response = await client.get(
        "/api/audit", headers=operator.headers, params={"before_id": "99999999999999999999"}
    )
    assert response.status_code in (400, 422)
    assert response.json()["errors"][0]["field"] == "before_id"


async def test_a_value_the_database_refuses_is_the_clients_error() -> None:
    @get("/store", opt=PUBLIC)
    async def store() -> str:
        raise asyncpg.exceptions.NumericValueOutOfRangeError("value out of range")

    app = Litestar([store], guards=[access_guard], exception_handlers=EXCEPTION_HANDLERS)
    async with httpx.AsyncClient(transport=asgi_transport(app), base_url="http://t") as http:
        response = await http.get("/store")
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/validation"
    assert "out of range" in response.json()["detail"]
