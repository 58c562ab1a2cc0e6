"""Operators register, edit and close pharmacies over the API, each change audited in its own
transaction; a bad field is a problem naming it; a closed pharmacy leaves the directory and
no longer changes; the database keeps what the service checks."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from medmarket.pharmacies.tests.helpers import audit_of, pharmacy_body, register
from medmarket.tests.support.fixtures import Account


async def test_an_operator_registers_edits_and_closes_a_pharmacy_each_audited(
    client: httpx.AsyncClient, operator: Account
) -> None:
    created = await register(
        client, operator, name_zh="  测试  大药房（文三路店） ", licence_number=" 浙cb 571 0001x "
    )
    assert created["name_zh"] == "测试 大药房（文三路店）"  # tidied, full-width punctuation kept
    assert created["licence_number"] == "浙CB5710001X"  # as printed: no spaces, capitals
    assert created["phone"] == "+8657188881234"  # E.164
    assert created["kind"] == "independent" and created["hospital_id"] is None
    assert created["opening_hours"][0] == {"weekday": 1, "opens": "08:00", "closes": "20:00"}
    assert created["closed_at"] is None and created["pharmacists"] == []
    [event] = await audit_of(client, operator, created["id"])
    assert (event["action"], event["actor_id"]) == ("pharmacy.created", operator.id)
    assert event["detail"]["licence_number"] == "浙CB5710001X"
    assert event["detail"]["opening_hours"][0] == "1 08:00-20:00"

    hours = [
        {"weekday": 6, "opens": "14:00", "closes": "24:00"},
        {"weekday": 6, "opens": "08:00", "closes": "12:00"},
    ]
    changed = await client.patch(
        f"/api/pharmacies/{created['id']}",
        headers=operator.headers,
        json={"name_en": "", "opening_hours": hours, "reviews_prescriptions": False},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["name_en"] is None and body["reviews_prescriptions"] is False
    assert body["opening_hours"] == [hours[1], hours[0]]  # by day, then opening time
    assert body["address"] == created["address"]  # left out, so kept
    updated = (await audit_of(client, operator, created["id"]))[-1]
    assert updated["action"] == "pharmacy.updated"
    assert set(updated["detail"]["changed"]) == {
        "name_en",
        "opening_hours",
        "reviews_prescriptions",
    }
    assert updated["detail"]["changed"]["name_en"] == ["Test Pharmacy", None]
    # Nothing changed: nothing recorded.
    again = await client.patch(
        f"/api/pharmacies/{created['id']}", headers=operator.headers, json={"city": "杭州市"}
    )
    assert again.status_code == 200
    assert len(await audit_of(client, operator, created["id"])) == 2

    closed = await client.post(f"/api/pharmacies/{created['id']}/close", headers=operator.headers)
    assert closed.status_code == 200 and closed.json()["closed_at"] is not None
    for refused in (
        await client.post(f"/api/pharmacies/{created['id']}/close", headers=operator.headers),
        await client.patch(
            f"/api/pharmacies/{created['id']}", headers=operator.headers, json={"city": "宁波市"}
        ),
    ):
        assert refused.status_code == 409
        assert refused.json()["errors"][0]["field"] == "closed_at"
        assert refused.json()["errors"][0]["code"] == "closed"
    actions = [event["action"] for event in await audit_of(client, operator, created["id"])]
    assert actions == ["pharmacy.created", "pharmacy.updated", "pharmacy.closed"]
    kept = await client.get(f"/api/pharmacies/{created['id']}", headers=operator.headers)
    assert kept.status_code == 200 and kept.json()["closed_at"] is not None


async def test_lists_by_status_and_the_directory_shows_open_dispensing_pharmacies_only(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    dispensing = await register(client, operator)
    reviewing_only = await register(client, operator, dispenses=False)
    closing = await register(client, operator)
    await client.post(f"/api/pharmacies/{closing['id']}/close", headers=operator.headers)

    async def listed(status: str) -> set[str]:
        response = await client.get(
            "/api/pharmacies", headers=operator.headers, params={"status": status}
        )
        assert response.status_code == 200, response.text
        return {pharmacy["id"] for pharmacy in response.json()}

    assert {dispensing["id"], reviewing_only["id"]} <= await listed("open")
    assert closing["id"] not in await listed("open")
    assert closing["id"] in await listed("closed") and dispensing["id"] not in await listed(
        "closed"
    )
    assert {dispensing["id"], closing["id"]} <= await listed("all")

    patient = await sign_up("patient")
    directory = await client.get("/api/pharmacies/dispensing", headers=patient.headers)
    assert directory.status_code == 200
    shown = {pharmacy["id"]: pharmacy for pharmacy in directory.json()}
    assert dispensing["id"] in shown
    assert reviewing_only["id"] not in shown and closing["id"] not in shown
    # Public fields only: nobody's membership, no record-keeping.
    assert set(shown[dispensing["id"]]) >= {"name_zh", "address", "phone", "opening_hours"}
    assert not {"pharmacists", "created_at", "closed_at"} & set(shown[dispensing["id"]])
    # The list that manages them is not the patient's.
    assert (await client.get("/api/pharmacies", headers=patient.headers)).status_code == 403


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"name_zh": " "}, "name_zh", 422),
        ({"name_zh": "药"}, "name_zh", 422),
        ({"kind": "online"}, "kind", 422),
        ({"licence_number": None}, "licence_number", 422),  # an independent one has one
        ({"licence_number": "浙 C"}, "licence_number", 422),
        ({"phone": "12345"}, "phone", 422),
        ({"phone": "not a number"}, "phone", 422),
        ({"province": ""}, "province", 422),
        ({"reviews_prescriptions": False, "dispenses": False}, "dispenses", 422),
        ({"hospital_id": str(uuid.uuid4())}, "hospital_id", 422),  # independent: no hospital
        ({"kind": "hospital", "hospital_id": None}, "hospital_id", 422),
        ({"kind": "hospital", "hospital_id": str(uuid.uuid4())}, "hospital_id", 404),
        (
            {"opening_hours": [{"weekday": 8, "opens": "08:00", "closes": "09:00"}]},
            "opening_hours[0].weekday",
            422,
        ),
        (
            {"opening_hours": [{"weekday": 1, "opens": "8:00", "closes": "09:00"}]},
            "opening_hours[0].opens",
            422,
        ),
        (
            {"opening_hours": [{"weekday": 1, "opens": "24:00", "closes": "24:00"}]},
            "opening_hours[0].opens",
            422,
        ),
        (
            {"opening_hours": [{"weekday": 1, "opens": "18:00", "closes": "09:00"}]},
            "opening_hours[0].closes",
            422,
        ),
        ({"colour": "green"}, "colour", 422),
    ],
)
async def test_a_bad_field_is_a_problem_naming_it(
    client: httpx.AsyncClient,
    operator: Account,
    changes: dict[str, Any],
    field: str,
    status: int,
) -> None:
    response = await client.post(
        "/api/pharmacies", json=pharmacy_body(**changes), headers=operator.headers
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_overlapping_windows_of_a_day_are_named(
    client: httpx.AsyncClient, operator: Account
) -> None:
    hours = [
        {"weekday": 2, "opens": "08:00", "closes": "20:00"},
        {"weekday": 2, "opens": "12:00", "closes": "13:00"},
        {"weekday": 3, "opens": "12:00", "closes": "13:00"},
        {"weekday": 2, "opens": "19:00", "closes": "21:00"},
    ]
    response = await client.post(
        "/api/pharmacies", json=pharmacy_body(opening_hours=hours), headers=operator.headers
    )
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("opening_hours[1]", "overlaps"),
        ("opening_hours[3]", "overlaps"),
    ]


async def test_an_open_pharmacy_licence_is_one_pharmacy_s(
    client: httpx.AsyncClient, operator: Account
) -> None:
    first = await register(client, operator)
    taken = await client.post(
        "/api/pharmacies",
        json=pharmacy_body(licence_number=first["licence_number"]),
        headers=operator.headers,
    )
    assert taken.status_code == 409
    assert taken.json()["errors"][0] == {
        "field": "licence_number",
        "message": "licence_number: this value is already taken",
        "code": "taken",
    }
    # Once it has closed, its successor may take the licence up.
    await client.post(f"/api/pharmacies/{first['id']}/close", headers=operator.headers)
    await register(client, operator, licence_number=first["licence_number"])


async def test_the_database_keeps_the_record(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    pharmacy = await register(client, operator)
    pharmacy_id = uuid.UUID(pharmacy["id"])
    db = app.state.services.db
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("DELETE FROM pharmacies WHERE id = $1", pharmacy_id)
    with pytest.raises(asyncpg.CheckViolationError, match="kind and hospital"):
        await db.execute("UPDATE pharmacies SET kind = 'hospital' WHERE id = $1", pharmacy_id)
    with pytest.raises(asyncpg.CheckViolationError, match="pharmacies_dispenses_check"):
        await db.execute(
            "UPDATE pharmacies SET dispenses = false, reviews_prescriptions = false WHERE id = $1",
            pharmacy_id,
        )
    with pytest.raises(asyncpg.ExclusionViolationError):
        await db.execute(
            "INSERT INTO pharmacy_opening_hours VALUES ($1, 1, '19:00', '21:00')", pharmacy_id
        )
    with pytest.raises(asyncpg.CheckViolationError, match="licence_number"):
        await db.execute(
            "INSERT INTO pharmacies (name_zh, kind, province, city, address, phone, "
            "reviews_prescriptions, dispenses) "
            "VALUES ('无证药房', 'independent', '浙江省', '杭州市', '某路 1 号', '+8657188880000', "
            "true, true)"
        )
    await client.post(f"/api/pharmacies/{pharmacy['id']}/close", headers=operator.headers)
    with pytest.raises(asyncpg.CheckViolationError, match="closed"):
        await db.execute("UPDATE pharmacies SET closed_at = NULL WHERE id = $1", pharmacy_id)
