"""A partner hospital's admins manage their hospital's own pharmacies and no other: another
hospital's pharmacy, an independent one, or another hospital named in a new one answers like
one that does not exist."""

from __future__ import annotations

import uuid

import httpx

from medmarket.pharmacies.tests.helpers import hospital_with_admin, pharmacy_body, register
from medmarket.tests.support.fixtures import Account


async def test_an_admin_manages_their_hospital_s_pharmacies_only(
    client: httpx.AsyncClient, operator: Account
) -> None:
    hospital_id, admin = await hospital_with_admin(client, operator)
    other_hospital, other_admin = await hospital_with_admin(client, operator)
    ours = await register(
        client, admin, kind="hospital", hospital_id=hospital_id, licence_number=None
    )
    assert ours["hospital_id"] == hospital_id and ours["hospital_name"].startswith("测试医院")
    assert ours["licence_number"] is None  # a hospital's own dispenses under its licence
    theirs = await register(client, other_admin, kind="hospital", hospital_id=other_hospital)
    independent = await register(client, operator)

    mine = await client.get("/api/pharmacies", headers=admin.headers)
    assert [pharmacy["id"] for pharmacy in mine.json()] == [ours["id"]]
    everyone = {
        p["id"] for p in (await client.get("/api/pharmacies", headers=operator.headers)).json()
    }
    assert {ours["id"], theirs["id"], independent["id"]} <= everyone

    for pharmacy in (theirs, independent):
        path = f"/api/pharmacies/{pharmacy['id']}"
        for response in (
            await client.get(path, headers=admin.headers),
            await client.patch(path, headers=admin.headers, json={"city": "宁波市"}),
            await client.post(path + "/close", headers=admin.headers),
            await client.post(
                path + "/pharmacists", headers=admin.headers, json={"email": "a@example.org"}
            ),
            await client.post(path + f"/pharmacists/{uuid.uuid4()}/end", headers=admin.headers),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["detail"] == "no such pharmacy"

    changed = await client.patch(
        f"/api/pharmacies/{ours['id']}", headers=admin.headers, json={"district": "上城区"}
    )
    assert changed.status_code == 200 and changed.json()["district"] == "上城区"
    closed = await client.post(f"/api/pharmacies/{ours['id']}/close", headers=admin.headers)
    assert closed.status_code == 200


async def test_an_admin_registers_only_their_own_hospital_s_pharmacies(
    client: httpx.AsyncClient, operator: Account
) -> None:
    hospital_id, admin = await hospital_with_admin(client, operator)
    other_hospital, _ = await hospital_with_admin(client, operator)
    elsewhere = await client.post(
        "/api/pharmacies",
        headers=admin.headers,
        json=pharmacy_body(kind="hospital", hospital_id=other_hospital),
    )
    assert elsewhere.status_code == 404
    assert elsewhere.json()["errors"][0]["field"] == "hospital_id"
    independent = await client.post("/api/pharmacies", headers=admin.headers, json=pharmacy_body())
    assert independent.status_code == 403
    assert independent.json()["errors"][0]["field"] == "kind"
    # A pharmacy keeps its hospital: the edit has no such field.
    ours = await register(client, admin, kind="hospital", hospital_id=hospital_id)
    moved = await client.patch(
        f"/api/pharmacies/{ours['id']}",
        headers=admin.headers,
        json={"hospital_id": other_hospital},
    )
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["field"] == "hospital_id"
