"""Pharmacists join a pharmacy (added by e-mail, or by accepting an invitation naming it),
have their licence number recorded and leave; one pharmacy at a time, and only pharmacists:
the database refuses the rest. A pharmacist reads their own pharmacy."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from medmarket.pharmacies.tests.helpers import audit_of, hospital_with_admin, register
from medmarket.tests.support.fixtures import (
    STRONG_PASSWORD,
    Account,
    sign_up_and_in,
    unique_email,
)


async def test_a_pharmacist_joins_has_a_licence_recorded_and_leaves_each_audited(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    pharmacy = await register(client, operator)
    pharmacist = await sign_up("pharmacist")
    alone = await client.get("/api/me/pharmacy", headers=pharmacist.headers)
    assert alone.status_code == 404
    assert "do not work in a pharmacy yet" in alone.json()["detail"]

    path = f"/api/pharmacies/{pharmacy['id']}/pharmacists"
    added = await client.post(
        path, headers=operator.headers, json={"email": pharmacist.email.upper()}
    )
    assert added.status_code == 201, added.text
    assert added.json()["user_id"] == pharmacist.id and added.json()["licence_number"] is None
    shown = await client.get(f"/api/pharmacies/{pharmacy['id']}", headers=operator.headers)
    assert [p["email"] for p in shown.json()["pharmacists"]] == [pharmacist.email]

    licence = f"ZY{uuid.uuid4().int % 10**10:010d}"
    recorded = await client.put(
        f"{path}/{pharmacist.id}/licence",
        headers=operator.headers,
        json={"licence_number": licence.lower()},
    )
    assert recorded.status_code == 200 and recorded.json()["licence_number"] == licence

    mine = await client.get("/api/me/pharmacy", headers=pharmacist.headers)
    assert mine.status_code == 200
    assert mine.json()["pharmacy"]["id"] == pharmacy["id"]
    assert mine.json()["membership"]["licence_number"] == licence
    assert "pharmacists" not in mine.json()["pharmacy"]

    ended = await client.post(f"{path}/{pharmacist.id}/end", headers=operator.headers)
    assert ended.status_code == 200 and ended.json()["left_at"] is not None
    again = await client.post(f"{path}/{pharmacist.id}/end", headers=operator.headers)
    assert again.status_code == 404
    assert (await client.get("/api/me/pharmacy", headers=pharmacist.headers)).status_code == 404

    events = await audit_of(client, operator, pharmacy["id"])
    assert [(e["action"], e["detail"].get("user_id")) for e in events[1:]] == [
        ("pharmacy.pharmacist_joined", pharmacist.id),
        ("pharmacy.pharmacist_licence_recorded", pharmacist.id),
        ("pharmacy.pharmacist_left", pharmacist.id),
    ]
    assert events[1]["detail"]["via"] == "added"
    assert events[2]["detail"]["licence_number"] == [None, licence]


async def test_one_pharmacy_at_a_time(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    first, second = await register(client, operator), await register(client, operator)
    pharmacist = await sign_up("pharmacist")
    body = {"email": pharmacist.email}
    joined = await client.post(
        f"/api/pharmacies/{first['id']}/pharmacists", headers=operator.headers, json=body
    )
    assert joined.status_code == 201
    refused = await client.post(
        f"/api/pharmacies/{second['id']}/pharmacists", headers=operator.headers, json=body
    )
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "email"
    assert refused.json()["errors"][0]["code"] == "has-pharmacy"
    # After leaving the first, the second takes them; the first keeps the ended membership.
    await client.post(
        f"/api/pharmacies/{first['id']}/pharmacists/{pharmacist.id}/end", headers=operator.headers
    )
    moved = await client.post(
        f"/api/pharmacies/{second['id']}/pharmacists", headers=operator.headers, json=body
    )
    assert moved.status_code == 201


async def test_closing_a_pharmacy_ends_its_memberships(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    pharmacy = await register(client, operator)
    pharmacist = await sign_up("pharmacist")
    path = f"/api/pharmacies/{pharmacy['id']}"
    await client.post(
        path + "/pharmacists", headers=operator.headers, json={"email": pharmacist.email}
    )
    closed = await client.post(path + "/close", headers=operator.headers)
    assert closed.json()["pharmacists"] == []
    assert (await client.get("/api/me/pharmacy", headers=pharmacist.headers)).status_code == 404
    [*_, event] = await audit_of(client, operator, pharmacy["id"])
    assert event["detail"] == {"pharmacists_left": [pharmacist.id]}
    late = await client.post(
        path + "/pharmacists", headers=operator.headers, json={"email": pharmacist.email}
    )
    assert late.status_code == 409 and late.json()["errors"][0]["field"] == "closed_at"


async def test_only_pharmacists_accounts_join_and_a_licence_is_one_pharmacist_s(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    pharmacy = await register(client, operator)
    path = f"/api/pharmacies/{pharmacy['id']}/pharmacists"
    doctor = await sign_up("doctor")
    for email in (doctor.email, unique_email("nobody"), "not an address"):
        refused = await client.post(path, headers=operator.headers, json={"email": email})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "email"
    licence = f"ZY{uuid.uuid4().int % 10**10:010d}"
    first, second = await sign_up("pharmacist"), await sign_up("pharmacist")
    body = {"email": first.email, "licence_number": licence}
    assert (await client.post(path, headers=operator.headers, json=body)).status_code == 201
    taken = await client.post(
        path, headers=operator.headers, json={"email": second.email, "licence_number": licence}
    )
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["field"] == "licence_number"


async def test_the_database_refuses_a_non_pharmacist_and_a_second_pharmacy(
    app: Litestar, client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    first, second = await register(client, operator), await register(client, operator)
    doctor, pharmacist = await sign_up("doctor"), await sign_up("pharmacist")
    db = app.state.services.db
    insert = "INSERT INTO pharmacy_pharmacists (pharmacy_id, user_id) VALUES ($1, $2)"
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="user_role"):
        await db.execute(insert, uuid.UUID(first["id"]), uuid.UUID(doctor.id))
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "INSERT INTO pharmacy_pharmacists (pharmacy_id, user_id, user_role) "
            "VALUES ($1, $2, 'doctor')",
            uuid.UUID(first["id"]),
            uuid.UUID(doctor.id),
        )
    await db.execute(insert, uuid.UUID(first["id"]), uuid.UUID(pharmacist.id))
    with pytest.raises(asyncpg.UniqueViolationError, match="pharmacy_pharmacists_one_pharmacy"):
        await db.execute(insert, uuid.UUID(second["id"]), uuid.UUID(pharmacist.id))
    # A member's role does not change, and a membership is never deleted.
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute("UPDATE users SET role = 'doctor' WHERE id = $1", uuid.UUID(pharmacist.id))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute(
            "DELETE FROM pharmacy_pharmacists WHERE user_id = $1", uuid.UUID(pharmacist.id)
        )


async def test_an_invitation_with_a_pharmacy_makes_a_member_of_it(
    client: httpx.AsyncClient, operator: Account
) -> None:
    pharmacy = await register(client, operator)
    email = unique_email("pharmacist")
    invited = await client.post(
        "/api/invitations",
        headers=operator.headers,
        json={"email": email, "role": "pharmacist", "pharmacy_id": pharmacy["id"]},
    )
    assert invited.status_code == 201, invited.text
    pharmacist = await sign_up_and_in(
        client, "pharmacist", invitation=invited.json()["token"], email=email
    )
    mine = await client.get("/api/me/pharmacy", headers=pharmacist.headers)
    assert mine.status_code == 200 and mine.json()["pharmacy"]["id"] == pharmacy["id"]
    [*_, joined] = await audit_of(client, operator, pharmacy["id"])
    assert joined["action"] == "pharmacy.pharmacist_joined"
    assert (joined["actor_id"], joined["detail"]["via"]) == (pharmacist.id, "invitation")


async def test_an_invitation_names_an_open_pharmacy_of_a_pharmacist(
    client: httpx.AsyncClient, operator: Account
) -> None:
    pharmacy = await register(client, operator)

    async def invite(**fields: Any) -> httpx.Response:
        return await client.post(
            "/api/invitations",
            headers=operator.headers,
            json={"email": unique_email(), "role": "pharmacist", **fields},
        )

    wrong_role = await invite(role="hospital_admin", pharmacy_id=pharmacy["id"])
    assert wrong_role.status_code == 422
    assert wrong_role.json()["errors"][0]["field"] == "pharmacy_id"
    unknown = await invite(pharmacy_id=str(uuid.uuid4()))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "pharmacy_id"
    hospital_id, _ = await hospital_with_admin(client, operator)
    both = await invite(pharmacy_id=pharmacy["id"], hospital_id=hospital_id)
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "hospital_id"

    # Sent while open, accepted after it closed: the sign-up says so and the invitation
    # stays open (a new one, to another pharmacy, is what the person needs).
    email = unique_email("pharmacist")
    invited = await client.post(
        "/api/invitations",
        headers=operator.headers,
        json={"email": email, "role": "pharmacist", "pharmacy_id": pharmacy["id"]},
    )
    await client.post(f"/api/pharmacies/{pharmacy['id']}/close", headers=operator.headers)
    closed = await invite(pharmacy_id=pharmacy["id"])
    assert closed.status_code == 422 and closed.json()["errors"][0]["field"] == "pharmacy_id"
    response = await client.post(
        "/api/accounts",
        json={
            "email": email,
            "password": STRONG_PASSWORD,
            "display_name": "药师",
            "invitation": invited.json()["token"],
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "invitation"
    assert response.json()["errors"][0]["code"] == "pharmacy-closed"
