"""Sign-up: clear errors for bad input, one account per address, argon2id hashes."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from medmarket.tests.support.fixtures import STRONG_PASSWORD, Account, unique_email


async def test_patient_signs_up(client: httpx.AsyncClient) -> None:
    email = unique_email()
    response = await client.post(
        "/api/accounts",
        json={"email": email.upper(), "password": STRONG_PASSWORD, "display_name": "李 雷"},
    )
    assert response.status_code == 202
    assert response.json()["email"] == email  # normalised: "A@x" and "a@x" are one account
    assert "password" not in response.text and "hash" not in response.text
    signed_in = await client.post("/api/tokens", json={"email": email, "password": STRONG_PASSWORD})
    assert signed_in.status_code == 201
    assert signed_in.json()["user"]["role"] == "patient"


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"email": "not-an-address"}, "email", "invalid-email"),
        ({"email": "someone@"}, "email", "invalid-email"),
        ({"password": "short1"}, "password", "weak-password"),
        ({"password": "aaaaaaaaaaaaaa"}, "password", "weak-password"),
        ({"password": "qwertyuiop"}, "password", "weak-password"),
        ({"display_name": "   "}, "display_name", "required"),
    ],
)
async def test_bad_fields_are_named(
    client: httpx.AsyncClient, changes: dict[str, str], field: str, code: str
) -> None:
    body = {"email": unique_email(), "password": STRONG_PASSWORD, "display_name": "Ann"}
    body.update(changes)
    response = await client.post("/api/accounts", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/validation"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]


async def test_password_built_from_email_is_weak(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/accounts",
        json={"email": "wangfang@example.org", "password": "wangfang2026!", "display_name": "王芳"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"


async def test_every_bad_field_is_reported_at_once(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/accounts", json={"email": "nope", "password": "x", "display_name": ""}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"email", "password", "display_name"}


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        (b"{not json", 400, None),
        (b'{"email": 5, "password": "x", "display_name": "a"}', 422, "email"),
        (b'{"password": "violet-otter-harbour-42", "display_name": "a"}', 422, "email"),
        (
            b'{"email": "a@b.org", "password": "violet-otter-harbour-42", "display_name": "a",'
            b' "is_admin": true}',
            422,
            "is_admin",
        ),
        (
            b'{"email": "a@b.org", "password": "violet-otter-harbour-42", "display_name": "a",'
            b' "role": "operator"}',
            422,
            "role",
        ),
    ],
)
async def test_malformed_bodies_get_problems_not_500(
    client: httpx.AsyncClient, payload: bytes, status: int, field: str | None
) -> None:
    response = await client.post(
        "/api/accounts", content=payload, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    problem = response.json()
    assert problem["status"] == status
    if field:
        assert field in [e["field"] for e in problem["errors"]]


async def test_staff_cannot_sign_up_without_invitation(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/accounts",
        json={
            "email": unique_email(),
            "password": STRONG_PASSWORD,
            "display_name": "x",
            "role": "pharmacist",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"


async def test_invitation_decides_role_and_works_once(
    client: httpx.AsyncClient, operator: Account
) -> None:
    email = unique_email("pharmacist")
    invited = await client.post(
        "/api/invitations", headers=operator.headers, json={"email": email, "role": "pharmacist"}
    )
    assert invited.status_code == 201
    token = invited.json()["token"]
    body = {
        "email": email,
        "password": STRONG_PASSWORD,
        "display_name": "药师",
        "invitation": token,
    }
    joined = await client.post("/api/accounts", json=body)
    assert joined.status_code == 202
    signed_in = await client.post("/api/tokens", json={"email": email, "password": STRONG_PASSWORD})
    assert signed_in.json()["user"]["role"] == "pharmacist"
    reused = await client.post("/api/accounts", json={**body, "email": unique_email()})
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "invitation"


async def test_passwords_are_stored_as_argon2id(client: httpx.AsyncClient, app: Litestar) -> None:
    email = unique_email()
    await client.post(
        "/api/accounts", json={"email": email, "password": STRONG_PASSWORD, "display_name": "Ann"}
    )
    stored = await app.state.services.db.fetchval(
        "SELECT password_hash FROM users WHERE email = $1", email
    )
    assert stored.startswith("$argon2id$")
    assert STRONG_PASSWORD not in stored
