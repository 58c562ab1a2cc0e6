"""Sign-in, browser sessions with CSRF proof, bearer tokens, sign-out, expiry (throttling:
``test_sign_in_throttle.py``)."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from medmarket.tests.support.fixtures import (
    STRONG_PASSWORD,
    Account,
    SignUp,
    unique_email,
)


async def test_browser_session_is_an_httponly_samesite_cookie(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    account: Account = await sign_up("patient")
    response = await client.post(
        "/api/session", json={"email": account.email, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 201
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("mm_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    token_value = cookie.split(";")[0].split("=", 1)[1]
    assert token_value not in response.text  # the token travels only in the cookie
    me = await client.get("/api/me")
    assert me.status_code == 200 and me.json()["email"] == account.email


async def test_cookie_session_needs_csrf_proof_for_unsafe_methods(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    account: Account = await sign_up("patient")
    signed_in = await client.post(
        "/api/session", json={"email": account.email, "password": STRONG_PASSWORD}
    )
    csrf = signed_in.json()["csrf_token"]
    refused = await client.delete("/api/session")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    wrong = await client.delete("/api/session", headers={"X-CSRF-Token": csrf + "x"})
    assert wrong.status_code == 403
    done = await client.delete("/api/session", headers={"X-CSRF-Token": csrf})
    assert done.status_code == 204
    assert (await client.get("/api/me")).status_code == 401


async def test_bearer_token_works_and_sign_out_revokes_it(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    account: Account = await sign_up("doctor")
    me = await client.get("/api/me", headers=account.headers)
    assert me.status_code == 200 and me.json()["role"] == "doctor"
    assert (await client.delete("/api/session", headers=account.headers)).status_code == 204
    assert (await client.get("/api/me", headers=account.headers)).status_code == 401


async def test_expired_session_is_refused(
    client: httpx.AsyncClient, sign_up: SignUp, app: Litestar, database_url: str
) -> None:
    import asyncpg

    account: Account = await sign_up("patient")
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(
            "UPDATE sessions SET created_at = now() - interval '2 days', "
            "expires_at = now() - interval '1 second' "
            "WHERE user_id = $1",
            __import__("uuid").UUID(account.id),
        )
    finally:
        await owner.close()
    assert (await client.get("/api/me", headers=account.headers)).status_code == 401


async def test_wrong_password_and_unknown_account_look_alike(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    account: Account = await sign_up("patient")
    wrong = await client.post("/api/tokens", json={"email": account.email, "password": "nope" * 3})
    unknown = await client.post(
        "/api/tokens", json={"email": unique_email(), "password": "nope" * 3}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


@pytest.mark.parametrize("path", ["/api/session", "/api/tokens"])
async def test_sign_in_body_errors_are_problems(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, json={"email": "a@b.org"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"
