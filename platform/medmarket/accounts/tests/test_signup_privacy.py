"""Sign-up tells nobody which addresses have an account, and cannot be run in bulk."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket.accounts.passwords import Passwords
from medmarket.accounts.tests.sent import notifications
from medmarket.app import create_app
from medmarket.tests.support.fixtures import (
    STRONG_PASSWORD,
    Account,
    client_for,
    make_settings,
    random_address,
    running,
    unique_email,
)


def sign_up_body(email: str, password: str = STRONG_PASSWORD) -> dict[str, str]:
    return {"email": email, "password": password, "display_name": "Ann"}


async def test_a_taken_address_is_answered_exactly_like_a_new_one(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    owner: Account = await sign_up("patient")
    fresh = unique_email()
    new = await client.post("/api/accounts", json=sign_up_body(fresh))
    taken = await client.post(
        "/api/accounts", json=sign_up_body(owner.email.upper(), "another-secret-pass-7")
    )
    assert new.status_code == taken.status_code == 202
    assert new.headers["content-type"] == taken.headers["content-type"]
    new_body, taken_body = new.json(), taken.json()
    assert new_body.keys() == taken_body.keys()
    assert new_body["email"] == fresh and taken_body["email"] == owner.email
    assert {**new_body, "email": ""} == {**taken_body, "email": ""}
    # Nothing was overwritten: the owner's password still works, the stranger's does not.
    assert (
        await client.post("/api/tokens", json={"email": owner.email, "password": owner.password})
    ).status_code == 201
    assert (
        await client.post(
            "/api/tokens", json={"email": owner.email, "password": "another-secret-pass-7"}
        )
    ).status_code == 401
    users = await app.state.services.db.fetchval(
        "SELECT count(*) FROM users WHERE email = $1", owner.email
    )
    assert users == 1


async def test_the_owner_of_a_taken_address_is_told_once_an_hour(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    owner: Account = await sign_up("patient")
    assert await notifications(app, owner.id, "account.sign_up_attempted") == []
    for _ in range(3):
        response = await client.post("/api/accounts", json=sign_up_body(owner.email))
        assert response.status_code == 202
    sent = await notifications(app, owner.id, "account.sign_up_attempted")
    assert len(sent) == 1  # three tries, one message: nobody can flood an inbox with it
    base = app.state.settings.base_url
    assert sent[0]["params"] == {
        "sign_in_url": f"{base}/sign-in",
        "reset_url": f"{base}/forgot-password",
    }
    assert sent[0]["recipient"]["email"] == owner.email
    events = await app.state.services.db.fetch(
        "SELECT outcome, detail FROM audit_events WHERE action = 'account.sign_up' "
        "AND subject_id = $1",
        owner.id,
    )
    assert [e["outcome"] for e in events] == ["denied"] * 3
    assert events[0]["detail"]["reason"] == "address-has-account"


async def test_a_taken_address_costs_the_same_hash(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slow part of a sign-up, hashing the password, happens either way, so the time
    an answer takes does not tell a taken address from a new one."""
    owner: Account = await sign_up("patient")
    passwords: Passwords = app.state.accounts.passwords
    hashed: list[str] = []
    original = passwords.hash

    async def counting(password: str) -> str:
        hashed.append(password)
        return await original(password)

    monkeypatch.setattr(passwords, "hash", counting)
    await client.post("/api/accounts", json=sign_up_body(owner.email, "taken-address-pass-1"))
    await client.post("/api/accounts", json=sign_up_body(unique_email(), "new-address-pass-2"))
    assert hashed == ["taken-address-pass-1", "new-address-pass-2"]


async def test_sign_ups_from_one_address_are_throttled(database_url: str) -> None:
    """Forty accounts a minute from one address was possible; now the address must wait."""
    settings = make_settings(database_url, signups_per_address=3)
    async with running(create_app(settings)) as app:
        address = random_address()
        async with client_for(app, address) as http:
            for _ in range(3):
                done = await http.post("/api/accounts", json=sign_up_body(unique_email()))
                assert done.status_code == 202
            refused = await http.post("/api/accounts", json=sign_up_body(unique_email()))
            assert refused.status_code == 429
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["limited_by"] == "address"
            wait = int(refused.headers["retry-after"])
            assert 0 < wait <= settings.signup_throttle_window_seconds
            # A taken address counts like any other: probing is throttled too.
            assert (
                await http.post("/api/accounts", json=sign_up_body(unique_email()))
            ).status_code == 429
        async with client_for(app) as elsewhere:
            done = await elsewhere.post("/api/accounts", json=sign_up_body(unique_email()))
            assert done.status_code == 202


async def test_a_typo_does_not_use_up_the_address_allowance(database_url: str) -> None:
    settings = make_settings(database_url, signups_per_address=2)
    async with running(create_app(settings)) as app, client_for(app) as http:
        for _ in range(5):
            bad = await http.post("/api/accounts", json=sign_up_body("not-an-address"))
            assert bad.status_code == 422
        for _ in range(2):
            done = await http.post("/api/accounts", json=sign_up_body(unique_email()))
            assert done.status_code == 202
