"""The patient's address book: phone numbers read as people write them, the one default,
removal that keeps the row, the limit of 20, ownership, and the API the ordering code uses."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket.patients.addresses import MAX_LIVE_ADDRESSES, live_address, postal
from medmarket.patients.demo_data import seed_demo_patient
from medmarket.tests.support.fixtures import Account, SignUp

HOME = {
    "label": "家",
    "recipient": "王 小明",
    "phone": "138 0013 8000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "street": "文三路 90 号",
    "postal_code": "310012",
}
OFFICE = {
    "recipient": "王小明",
    "phone": "0571-8888 1234",
    "province": "浙江省",
    "city": "杭州市",
    "street": "滨江区 网商路 699 号",
}


async def add(client: httpx.AsyncClient, who: Account, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/me/addresses", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def listed(client: httpx.AsyncClient, who: Account) -> list[dict[str, Any]]:
    response = await client.get("/api/me/addresses", headers=who.headers)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_the_first_address_is_the_default_and_phones_are_e164(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    patient = await sign_up("patient")
    home = await add(client, patient, HOME)
    assert home["is_default"] is True and home["phone"] == "+8613800138000"
    office = await add(client, patient, OFFICE)
    assert office["is_default"] is False and office["phone"] == "+8657188881234"
    assert office["label"] is None and office["district"] is None
    assert [a["id"] for a in await listed(client, patient)] == [home["id"], office["id"]]

    made = await client.post(f"/api/me/addresses/{office['id']}/default", headers=patient.headers)
    assert made.status_code == 200 and made.json()["is_default"] is True
    book = await listed(client, patient)
    assert [(a["id"], a["is_default"]) for a in book] == [
        (office["id"], True),
        (home["id"], False),
    ]
    newest = await add(client, patient, {**OFFICE, "is_default": True})
    assert [a["is_default"] for a in await listed(client, patient)] == [True, False, False]
    assert (await listed(client, patient))[0]["id"] == newest["id"]


async def test_a_patch_keeps_what_it_leaves_out(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    patient = await sign_up("patient")
    home = await add(client, patient, HOME)
    changed = await client.patch(
        f"/api/me/addresses/{home['id']}",
        json={"street": "  文三路   100 号 ", "postal_code": None},
        headers=patient.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["street"] == "文三路 100 号" and body["postal_code"] is None
    assert body["recipient"] == "王 小明" and body["label"] == "家" and body["is_default"]


async def test_removing_the_default_moves_it_to_the_newest(
    client: httpx.AsyncClient, sign_up: SignUp, app: Litestar
) -> None:
    patient = await sign_up("patient")
    home = await add(client, patient, HOME)
    older = await add(client, patient, OFFICE)
    newer = await add(client, patient, {**OFFICE, "label": "父母家"})
    gone = await client.delete(f"/api/me/addresses/{home['id']}", headers=patient.headers)
    assert gone.status_code == 204
    book = await listed(client, patient)
    assert [(a["id"], a["is_default"]) for a in book] == [
        (newer["id"], True),
        (older["id"], False),
    ]
    again = await client.delete(f"/api/me/addresses/{home['id']}", headers=patient.headers)
    assert again.status_code == 404
    db = app.state.services.db
    row = await db.fetchrow(
        "SELECT removed_at, is_default FROM patient_addresses WHERE id = $1",
        uuid.UUID(home["id"]),
    )
    assert row is not None and row["removed_at"] is not None and not row["is_default"]
    actions = await db.fetch(
        "SELECT action FROM audit_events WHERE subject_type = 'patient_address' "
        "AND subject_id = $1 ORDER BY occurred_at",
        home["id"],
    )
    assert [r["action"] for r in actions] == ["patient_address.added", "patient_address.removed"]
    for address in (older, newer):
        await client.delete(f"/api/me/addresses/{address['id']}", headers=patient.headers)
    assert await listed(client, patient) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"recipient": "   "}, "recipient"),
        ({"province": "浙"}, "province"),
        ({"street": "x" * 201}, "street"),
        ({"postal_code": "31001"}, "postal_code"),
        ({"label": "x" * 21}, "label"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient, sign_up: SignUp, changes: dict[str, str], field: str
) -> None:
    patient = await sign_up("patient")
    response = await client.post(
        "/api/me/addresses", json={**HOME, **changes}, headers=patient.headers
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_at_most_twenty_live_addresses(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    patient = await sign_up("patient")
    first = await add(client, patient, HOME)
    for _ in range(MAX_LIVE_ADDRESSES - 1):
        await add(client, patient, OFFICE)
    refused = await client.post("/api/me/addresses", json=OFFICE, headers=patient.headers)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "addresses"
    await client.delete(f"/api/me/addresses/{first['id']}", headers=patient.headers)
    await add(client, patient, OFFICE)


async def test_another_accounts_address_is_not_found_and_others_are_refused(
    client: httpx.AsyncClient, sign_up: SignUp, app: Litestar
) -> None:
    patient, stranger, doctor = (
        await sign_up("patient"),
        await sign_up("patient"),
        await sign_up("doctor"),
    )
    home = await add(client, patient, HOME)
    path = f"/api/me/addresses/{home['id']}"
    assert (await client.patch(path, json={}, headers=stranger.headers)).status_code == 404
    assert (await client.delete(path, headers=stranger.headers)).status_code == 404
    assert (await client.post(path + "/default", headers=stranger.headers)).status_code == 404
    assert await listed(client, stranger) == []
    assert (await client.get("/api/me/addresses", headers=doctor.headers)).status_code == 403

    db = app.state.services.db
    async with db.transaction() as connection:
        mine = await live_address(connection, uuid.UUID(patient.id), uuid.UUID(home["id"]))
        theirs = await live_address(connection, uuid.UUID(stranger.id), uuid.UUID(home["id"]))
    assert theirs is None
    assert mine is not None and mine.is_default and mine.district == "西湖区"
    dropoff = postal(mine)
    assert (dropoff.phone, dropoff.city, dropoff.postal_code) == (
        "+8613800138000",
        "杭州市",
        "310012",
    )


async def test_the_demo_patient_has_a_default_address_in_hangzhou(
    app: Litestar, client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    patient = await sign_up("patient")
    for _ in range(2):  # seeding again adds nothing
        await seed_demo_patient(app.state.services, patient.email)
    (address,) = await listed(client, patient)
    assert (address["province"], address["city"], address["district"]) == (
        "浙江省",
        "杭州市",
        "西湖区",
    )
    assert address["is_default"]
