"""Password reset: a link through the notification channels that works once, for a while,
answers every address alike, is throttled, and ends every session of the account."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest
from litestar import Litestar

from medmarket.accounts.tests.sent import notifications, reset_token
from medmarket.app import create_app
from medmarket.tests.support.fixtures import (
    STRONG_PASSWORD,
    Account,
    client_for,
    make_settings,
    random_address,
    running,
    sign_up_and_in,
    unique_email,
)

SignUp = Callable[..., Awaitable[Account]]
NEW_PASSWORD = "plum-kettle-meadow-93"


async def ask(http: httpx.AsyncClient, email: str) -> httpx.Response:
    return await http.post("/api/password-resets", json={"email": email})


async def confirm(http: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    return await http.post(
        "/api/password-resets/confirm", json={"token": token, "password": password}
    )


async def test_asking_answers_the_same_with_or_without_an_account(
    app: Litestar, client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    owner = await sign_up("patient")
    known = await ask(client, owner.email.upper())
    unknown = await ask(client, unique_email())
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known.json()["expires_in_seconds"] == app.state.settings.password_reset_ttl_seconds
    sent = await notifications(app, owner.id, "account.password_reset")
    assert len(sent) == 1
    assert sent[0]["params"]["expires_minutes"] == "30"
    assert sent[0]["recipient"]["email"] == owner.email
    stored = await app.state.services.db.fetchval(
        "SELECT count(*) FROM password_resets WHERE user_id = $1", uuid.UUID(owner.id)
    )
    assert stored == 1
    token = await reset_token(app, owner.id)
    hashes = await app.state.services.db.fetch("SELECT token_hash FROM password_resets")
    assert all(token.encode() not in bytes(row["token_hash"]) for row in hashes)


async def test_a_bad_address_is_named(client: httpx.AsyncClient) -> None:
    response = await ask(client, "not-an-address")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "email"


async def test_the_link_sets_a_new_password_once_and_ends_every_session(
    app: Litestar, sign_up: SignUp
) -> None:
    owner = await sign_up("patient")
    async with client_for(app) as laptop:
        second = await laptop.post(
            "/api/tokens", json={"email": owner.email, "password": STRONG_PASSWORD}
        )
    sessions = [owner.headers, {"Authorization": f"Bearer {second.json()['token']}"}]
    async with client_for(app) as http:
        assert (await ask(http, owner.email)).status_code == 202
        token = await reset_token(app, owner.id)
        done = await confirm(http, token, NEW_PASSWORD)
        assert done.status_code == 204
        for headers in sessions:  # signed out everywhere
            assert (await http.get("/api/me", headers=headers)).status_code == 401
        again = await confirm(http, token, "another-new-pass-55")
        assert again.status_code == 422
        assert again.json()["errors"][0] == {
            "field": "token",
            "code": "invalid-token",
            "message": "this link is unknown, used or expired; ask for a new one",
        }
        old = await http.post(
            "/api/tokens", json={"email": owner.email, "password": STRONG_PASSWORD}
        )
        assert old.status_code == 401
        new = await http.post("/api/tokens", json={"email": owner.email, "password": NEW_PASSWORD})
        assert new.status_code == 201
    events = await app.state.services.db.fetch(
        "SELECT action, outcome, detail FROM audit_events WHERE subject_type = 'user' "
        "AND subject_id = $1 AND action LIKE 'account.password_reset%' ORDER BY id",
        owner.id,
    )
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("account.password_reset_requested", "success"),
        ("account.password_reset", "success"),
    ]
    assert events[1]["detail"] == {"sessions_ended": 2, "other_links_ended": 0}
    assert len(await notifications(app, owner.id, "account.password_changed")) == 1


async def test_using_one_link_ends_the_others(
    app: Litestar, client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    owner = await sign_up("patient")
    await ask(client, owner.email)
    first = await reset_token(app, owner.id)
    await ask(client, owner.email)
    second = await reset_token(app, owner.id)
    assert first != second
    assert (await confirm(client, second, NEW_PASSWORD)).status_code == 204
    assert (await confirm(client, first, "yet-another-pass-66")).status_code == 422


async def test_an_expired_link_does_not_work(
    app: Litestar, client: httpx.AsyncClient, sign_up: SignUp, database_url: str
) -> None:
    owner = await sign_up("patient")
    await ask(client, owner.email)
    token = await reset_token(app, owner.id)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE password_resets SET created_at = now() - interval '31 minutes', "
            "expires_at = now() - interval '1 minute' WHERE user_id = $1",
            uuid.UUID(owner.id),
        )
    finally:
        await connection.close()
    refused = await confirm(client, token, NEW_PASSWORD)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "token"
    still = await client.post(
        "/api/tokens", json={"email": owner.email, "password": STRONG_PASSWORD}
    )
    assert still.status_code == 201


async def test_a_disabled_accounts_link_does_not_work(
    app: Litestar, client: httpx.AsyncClient, sign_up: SignUp, database_url: str
) -> None:
    owner = await sign_up("patient")
    await ask(client, owner.email)
    token = await reset_token(app, owner.id)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE users SET disabled_at = now() WHERE id = $1", uuid.UUID(owner.id)
        )
    finally:
        await connection.close()
    refused = await confirm(client, token, NEW_PASSWORD)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "token"
    assert (await ask(client, owner.email)).status_code == 202  # answered like any address
    assert len(await notifications(app, owner.id, "account.password_reset")) == 1


@pytest.mark.parametrize("password", ["short1", "qwertyuiop", "aaaaaaaaaaaaaa"])
async def test_the_new_password_follows_the_sign_up_rules(
    app: Litestar, client: httpx.AsyncClient, sign_up: SignUp, password: str
) -> None:
    owner = await sign_up("patient")
    await ask(client, owner.email)
    token = await reset_token(app, owner.id)
    weak = await confirm(client, token, password)
    assert weak.status_code == 422
    assert [(e["field"], e["code"]) for e in weak.json()["errors"]] == [
        ("password", "weak-password")
    ]
    # A refused password does not use the link up.
    assert (await confirm(client, token, NEW_PASSWORD)).status_code == 204


async def test_a_made_up_token_is_refused(client: httpx.AsyncClient) -> None:
    refused = await confirm(client, "x" * 43, NEW_PASSWORD)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "token"


async def test_requests_are_throttled_per_address_and_per_account(database_url: str) -> None:
    settings = make_settings(
        database_url, password_resets_per_address=4, password_resets_per_account=2
    )
    async with running(create_app(settings)) as app:
        async with client_for(app) as http:
            owner = await sign_up_and_in(http)
        address = random_address()
        async with client_for(app, address) as http:
            answers = [await ask(http, owner.email) for _ in range(3)]
            # The account gets two links; the third request is answered alike, but sends none.
            assert [a.status_code for a in answers] == [202, 202, 202]
            assert answers[0].json() == answers[2].json()
            assert len(await notifications(app, owner.id, "account.password_reset")) == 2
            assert (await ask(http, unique_email())).status_code == 202
            refused = await ask(http, unique_email())
            assert refused.status_code == 429
            assert refused.json()["limited_by"] == "address"
            assert 0 < int(refused.headers["retry-after"]) <= 3600
        events = await app.state.services.db.fetch(
            "SELECT outcome, detail FROM audit_events WHERE subject_id = $1 "
            "AND action = 'account.password_reset_requested' ORDER BY id",
            owner.id,
        )
        assert [e["outcome"] for e in events] == ["success", "success", "denied"]
        assert events[2]["detail"] == {"reason": "throttled"}


async def test_an_ended_link_cannot_be_reopened_even_by_sql(
    app: Litestar, client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    owner = await sign_up("patient")
    await ask(client, owner.email)
    assert (
        await confirm(client, await reset_token(app, owner.id), NEW_PASSWORD)
    ).status_code == 204
    async with app.state.services.db.connection() as connection:
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute(
                "UPDATE password_resets SET ended_at = NULL, ended_because = NULL "
                "WHERE user_id = $1",
                uuid.UUID(owner.id),
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("DELETE FROM password_resets")


async def test_a_reset_lets_an_owner_in_while_their_account_is_under_attack(
    database_url: str,
) -> None:
    """Someone guesses at the account from everywhere, so the owner on a new phone is held
    up; the reset link is the second factor that lets them in at once."""
    settings = make_settings(database_url, login_failures_per_account=3)
    async with running(create_app(settings)) as app:
        async with client_for(app) as http:
            owner = await sign_up_and_in(http)
        for attempt in range(3):
            async with client_for(app) as attacker:
                guess = await attacker.post(
                    "/api/tokens", json={"email": owner.email, "password": f"guess-{attempt}-x"}
                )
                assert guess.status_code == 401
        async with client_for(app) as new_phone:
            held = await new_phone.post(
                "/api/tokens", json={"email": owner.email, "password": STRONG_PASSWORD}
            )
            assert held.status_code == 429
            await ask(new_phone, owner.email)
            done = await confirm(new_phone, await reset_token(app, owner.id), NEW_PASSWORD)
            assert done.status_code == 204 and "mm_device" in done.headers["set-cookie"]
            signed_in = await new_phone.post(
                "/api/tokens", json={"email": owner.email, "password": NEW_PASSWORD}
            )
            assert signed_in.status_code == 201
        # Elsewhere the account is still guarded: the reset made nobody else a known place.
        async with client_for(app) as attacker:
            guess = await attacker.post(
                "/api/tokens", json={"email": owner.email, "password": NEW_PASSWORD}
            )
            assert guess.status_code == 429
