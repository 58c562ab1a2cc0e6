"""A person's language and time zone, and the preview of an invitation before sign-up."""

from __future__ import annotations

import httpx
from litestar import Litestar

from medmarket.accounts.service import Accounts
from medmarket.tests.support.fixtures import Account, SignUp, unique_email


async def test_preferences_change_language_and_time_zone(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    account: Account = await sign_up("patient")
    changed = await client.patch(
        "/api/me", headers=account.headers, json={"locale": "en", "time_zone": "Asia/Urumqi"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["locale"], changed.json()["time_zone"]) == ("en", "Asia/Urumqi")
    only_zone = await client.patch(
        "/api/me", headers=account.headers, json={"time_zone": "Europe/Berlin"}
    )
    assert (only_zone.json()["locale"], only_zone.json()["time_zone"]) == ("en", "Europe/Berlin")


async def test_unknown_time_zone_and_locale_are_named(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    account: Account = await sign_up("patient")
    zone = await client.patch("/api/me", headers=account.headers, json={"time_zone": "Mars/Base"})
    assert zone.status_code == 422
    assert [(e["field"], e["code"]) for e in zone.json()["errors"]] == [
        ("time_zone", "unknown-time-zone")
    ]
    locale = await client.patch("/api/me", headers=account.headers, json={"locale": "fr"})
    assert locale.status_code in (400, 422)
    assert locale.json()["errors"][0]["field"] == "locale"
    unchanged = await client.get("/api/me", headers=account.headers)
    assert (unchanged.json()["locale"], unchanged.json()["time_zone"]) == ("zh-CN", "Asia/Shanghai")


async def test_preference_change_is_audited(
    app: Litestar, client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    account: Account = await sign_up("doctor")
    await client.patch("/api/me", headers=account.headers, json={"locale": "en"})
    row = await app.state.services.db.fetchrow(
        "SELECT actor_id::text, detail FROM audit_events WHERE action = "
        "'account.preferences_changed' AND subject_id = $1",
        account.id,
    )
    assert row is not None
    assert row["actor_id"] == account.id
    assert row["detail"] == {"locale": "en"}


async def test_invitation_preview_shows_open_invitations_only(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    accounts: Accounts = app.state.accounts
    email = unique_email("pharmacist")
    invited = await client.post(
        "/api/invitations", headers=operator.headers, json={"email": email, "role": "pharmacist"}
    )
    token = invited.json()["token"]
    preview = await accounts.invitation(token)
    assert preview is not None
    assert (preview.email, preview.role) == (email, "pharmacist")
    assert await accounts.invitation(token + "x") is None
    joined = await client.post(
        "/api/accounts",
        json={
            "email": email,
            "password": "violet-otter-harbour-42",
            "display_name": "Pharm",
            "invitation": token,
        },
    )
    assert joined.status_code == 202
    assert await accounts.invitation(token) is None  # used
