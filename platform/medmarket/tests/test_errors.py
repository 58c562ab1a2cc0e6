"""Errors leave as RFC 9457 problem documents; nothing from a stack trace leaves the server."""

from __future__ import annotations

import httpx
from litestar import Litestar, get

from medmarket.accounts.guards import PUBLIC, access_guard
from medmarket.errors import EXCEPTION_HANDLERS, PROBLEM_JSON
from medmarket.tests.support.fixtures import asgi_transport


async def test_an_unexpected_error_is_a_bare_500_problem() -> None:
    @get("/boom", opt=PUBLIC)
    async def boom() -> str:
        raise RuntimeError("secret connection string postgres://admin:pw@db")

    app = Litestar([boom], guards=[access_guard], exception_handlers=EXCEPTION_HANDLERS)
    async with httpx.AsyncClient(transport=asgi_transport(app), base_url="http://t") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["type"] == "/problems/internal"
    assert "secret" not in response.text and "Traceback" not in response.text


async def test_unknown_path_and_wrong_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/no-such-thing")
    assert missing.status_code == 404 and missing.json()["type"] == "/problems/not-found"
    wrong = await client.put("/api/accounts", json={})
    assert wrong.status_code == 405
    assert wrong.headers["content-type"].startswith(PROBLEM_JSON)


async def test_oversized_body_is_refused_cleanly(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/accounts",
        content=b"{" + b" " * (21 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
