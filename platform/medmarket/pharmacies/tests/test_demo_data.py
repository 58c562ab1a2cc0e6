"""The demo has the demo hospital's own pharmacy, with the demo pharmacist in it, and an
independent pharmacy, both stocked and delivering; seeding again changes nothing."""

from __future__ import annotations

import uuid

import httpx
from litestar import Litestar

from medmarket.pharmacies.demo_data import INDEPENDENT, PHARMACIST_LICENCE, seed_demo_pharmacies
from medmarket.pharmacies.tests.helpers import audit_of
from medmarket.tests.support.fixtures import Account


async def test_demo_pharmacies_and_the_pharmacist_in_the_hospital_s_own(
    app: Litestar, client: httpx.AsyncClient, operator: Account, sign_up: Account
) -> None:
    name = f"示范测试医院 {uuid.uuid4().hex[:6]}"
    hospital = await client.post(
        "/api/hospitals",
        headers=operator.headers,
        json={"name": name, "name_en": "Demo Test Hospital", "level": "一级", "region": "杭州"},
    )
    assert hospital.status_code == 201, hospital.text
    pharmacist = await sign_up("pharmacist")  # type: ignore[operator]
    services = app.state.services
    await seed_demo_pharmacies(services, operator.email, pharmacist.email, name)

    mine = await client.get("/api/me/pharmacy", headers=pharmacist.headers)
    assert mine.status_code == 200, mine.text
    pharmacy = mine.json()["pharmacy"]
    assert (pharmacy["name_zh"], pharmacy["name_en"]) == (
        f"{name}药房",
        "Demo Test Hospital Pharmacy",
    )
    assert (pharmacy["kind"], pharmacy["hospital_id"]) == ("hospital", hospital.json()["id"])
    assert mine.json()["membership"]["licence_number"] == PHARMACIST_LICENCE
    # It sells the common chronic drugs, and delivers to the whole of 杭州市.
    stock = await client.get(f"/api/pharmacies/{pharmacy['id']}/stock", headers=pharmacist.headers)
    sold = {(item["generic_name_en"], item["unit"]) for item in stock.json()}
    assert {("amlodipine", "tablet"), ("metformin", "box"), ("insulin glargine", "box")} <= sold
    areas = await client.get(
        f"/api/pharmacies/{pharmacy['id']}/delivery-areas", headers=pharmacist.headers
    )
    assert areas.json() == [{"province": "浙江省", "city": "杭州市", "district": None}]
    directory = await client.get("/api/pharmacies/dispensing", headers=pharmacist.headers)
    names = [p["name_zh"] for p in directory.json()]
    assert INDEPENDENT.name_zh in names and pharmacy["name_zh"] in names

    events = len(await audit_of(client, operator, pharmacy["id"]))
    count = "SELECT count(*) FROM pharmacies WHERE name_zh = ANY($1::text[])"
    before = await services.db.fetchval(count, names)
    await seed_demo_pharmacies(services, operator.email, pharmacist.email, name)
    assert await services.db.fetchval(count, names) == before
    assert len(await audit_of(client, operator, pharmacy["id"])) == events
