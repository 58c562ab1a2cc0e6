"""Pharmacies' stock, prices and delivery areas: who may change them, what is refused, the
audit trail; and the ordering code's API (``pharmacies_stocking``, ``take_stock``), the last
box taken by one of two orders."""

from __future__ import annotations

import asyncio
import decimal
import uuid
from typing import Any

import httpx
from litestar import Litestar

from medmarket.drugs.seed import seed_id
from medmarket.pharmacies.stock import Place, Wanted, pharmacies_stocking, take_stock
from medmarket.pharmacies.tests.helpers import audit_of, hospital_with_admin, register
from medmarket.tests.support.fixtures import Account

AMLODIPINE = str(seed_id("amlodipine-tab-5mg"))
METFORMIN = str(seed_id("metformin-tab-0.5g"))
INSULIN = str(seed_id("insulin-glargine-inj-100iu-ml"))


def unique_province() -> str:
    return f"测试省{uuid.uuid4().hex[:8]}"


async def pharmacist_of(
    client: httpx.AsyncClient, operator: Account, sign_up: Any, pharmacy_id: str
) -> Account:
    pharmacist: Account = await sign_up("pharmacist")
    added = await client.post(
        f"/api/pharmacies/{pharmacy_id}/pharmacists",
        headers=operator.headers,
        json={"email": pharmacist.email},
    )
    assert added.status_code == 201, added.text
    return pharmacist


async def test_a_pharmacist_prices_stocks_and_syncs_each_audited(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    pharmacy = await register(client, operator)
    pharmacist = await pharmacist_of(client, operator, sign_up, pharmacy["id"])
    base = f"/api/pharmacies/{pharmacy['id']}/stock"

    put = await client.put(
        f"{base}/{AMLODIPINE}/tablet",
        headers=pharmacist.headers,
        json={"price_fen": 85, "on_hand": "300"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["generic_name_zh"] == "氨氯地平" and put.json()["price_fen"] == 85
    again = await client.put(
        f"{base}/{AMLODIPINE}/tablet",
        headers=pharmacist.headers,
        json={"price_fen": 80, "on_hand": "299.5"},
    )
    assert again.status_code == 200 and decimal.Decimal(again.json()["on_hand"]) == decimal.Decimal(
        "299.5"
    )

    patient = await sign_up("patient")
    listed = await client.get(base, headers=patient.headers)
    assert listed.status_code == 200
    assert [(i["drug_id"], i["unit"], i["price_fen"]) for i in listed.json()] == [
        (AMLODIPINE, "tablet", 80)
    ]

    synced = await client.put(
        base,
        headers=pharmacist.headers,
        json={
            "items": [
                {"drug_id": METFORMIN, "unit": "tablet", "price_fen": 20, "on_hand": 1000},
                {"drug_id": INSULIN, "unit": "box", "price_fen": 18900, "on_hand": 5},
            ]
        },
    )
    assert synced.status_code == 200, synced.text
    body = synced.json()
    assert (body["created"], body["updated"], body["zeroed"]) == (2, 0, 1)
    stock = {i["drug_id"]: i for i in body["stock"]}
    assert stock[AMLODIPINE]["on_hand"] == "0" or decimal.Decimal(
        stock[AMLODIPINE]["on_hand"]
    ) == decimal.Decimal(0)
    assert stock[INSULIN]["cold_chain"] is True and stock[METFORMIN]["cold_chain"] is False

    events = await audit_of(client, operator, pharmacy["id"])
    actions = [e["action"] for e in events]
    assert actions[-3:] == [
        "pharmacy.stock_changed",
        "pharmacy.stock_changed",
        "pharmacy.stock_synced",
    ]
    assert events[-2]["detail"]["price_fen"] == [85, 80]
    assert events[-1]["detail"] == {"items": 2, "created": 2, "updated": 0, "zeroed": 1}


async def test_who_may_edit_and_what_is_refused(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    hospital_id, admin = await hospital_with_admin(client, operator)
    own = await register(client, admin, kind="hospital", hospital_id=hospital_id)
    other = await register(client, operator)
    stranger = await pharmacist_of(client, operator, sign_up, other["id"])
    body = {"price_fen": 100, "on_hand": 10}
    path = f"/api/pharmacies/{own['id']}/stock/{AMLODIPINE}/tablet"

    assert (await client.put(path, headers=admin.headers, json=body)).status_code == 200
    assert (await client.put(path, headers=operator.headers, json=body)).status_code == 200
    refused = await client.put(path, headers=stranger.headers, json=body)
    assert refused.status_code == 404
    patient = await sign_up("patient")
    assert (await client.put(path, headers=patient.headers, json=body)).status_code == 403
    other_admin_path = f"/api/pharmacies/{other['id']}/stock/{AMLODIPINE}/tablet"
    assert (await client.put(other_admin_path, headers=admin.headers, json=body)).status_code == (
        404
    )

    unknown = await client.put(
        f"/api/pharmacies/{own['id']}/stock/{uuid.uuid4()}/tablet", headers=admin.headers, json=body
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "drug_id"
    negative = await client.put(path, headers=admin.headers, json={"price_fen": 1, "on_hand": -1})
    assert negative.status_code == 422 and "on_hand" in negative.text
    bad_sync = await client.put(
        f"/api/pharmacies/{own['id']}/stock",
        headers=admin.headers,
        json={
            "items": [{"drug_id": str(uuid.uuid4()), "unit": "box", "price_fen": 1, "on_hand": 1}]
        },
    )
    assert bad_sync.status_code == 422 and "items[0].drug_id" in bad_sync.text

    retired_drug = seed_id("zopiclone-tab-7.5mg")
    retire = await client.post(f"/api/drugs/{retired_drug}/retire", headers=operator.headers)
    if retire.status_code == 200:
        try:
            retired = await client.put(
                f"/api/pharmacies/{own['id']}/stock/{retired_drug}/tablet",
                headers=admin.headers,
                json=body,
            )
            assert retired.status_code == 422 and "retired" in retired.text
        finally:
            await client.post(f"/api/drugs/{retired_drug}/restore", headers=operator.headers)

    closed = await client.post(f"/api/pharmacies/{own['id']}/close", headers=operator.headers)
    assert closed.status_code == 200
    assert (await client.put(path, headers=operator.headers, json=body)).status_code == 409
    areas = await client.put(
        f"/api/pharmacies/{own['id']}/delivery-areas", headers=operator.headers, json=[]
    )
    assert areas.status_code == 409


async def test_delivery_areas_are_replaced_and_audited(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    pharmacy = await register(client, operator)
    pharmacist = await pharmacist_of(client, operator, sign_up, pharmacy["id"])
    path = f"/api/pharmacies/{pharmacy['id']}/delivery-areas"
    areas = [
        {"province": "浙江省", "city": "杭州市", "district": "西湖区"},
        {"province": "浙江省", "city": "杭州市", "district": " 拱墅区 "},
        {"province": "浙江省", "city": "宁波市", "district": None},
    ]
    replaced = await client.put(path, headers=pharmacist.headers, json=areas)
    assert replaced.status_code == 200, replaced.text
    assert {(a["city"], a["district"]) for a in replaced.json()} == {
        ("杭州市", "西湖区"),
        ("杭州市", "拱墅区"),
        ("宁波市", None),
    }
    patient = await sign_up("patient")
    assert len((await client.get(path, headers=patient.headers)).json()) == 3
    short = await client.put(
        path, headers=pharmacist.headers, json=[{"province": "浙", "city": "杭州市"}]
    )
    assert short.status_code == 422 and "[0].province" in short.text
    events = await audit_of(client, operator, pharmacy["id"])
    assert events[-1]["action"] == "pharmacy.delivery_areas_changed"
    assert "浙江省 宁波市" in events[-1]["detail"]["after"]


async def _stocked(
    client: httpx.AsyncClient, account: Account, pharmacy_id: str, items: list[dict[str, Any]]
) -> None:
    synced = await client.put(
        f"/api/pharmacies/{pharmacy_id}/stock", headers=account.headers, json={"items": items}
    )
    assert synced.status_code == 200, synced.text


async def test_pharmacies_stocking_every_item_nearest_first(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    province = unique_province()
    place = {"province": province, "city": "测试市"}
    hospital_id, admin = await hospital_with_admin(client, operator)
    same_district = await register(client, operator, **place, district="一区", name_zh="乙药房")
    same_city = await register(client, operator, **place, district="二区", name_zh="甲药房")
    own = await register(
        client, admin, kind="hospital", hospital_id=hospital_id, **place, district="二区"
    )
    elsewhere = await register(client, operator, district="西湖区")
    lacking = await register(client, operator, **place, district="一区")
    dear = {"drug_id": AMLODIPINE, "unit": "tablet", "price_fen": 100, "on_hand": 60}
    cheap = {**dear, "price_fen": 50}
    insulin = {"drug_id": INSULIN, "unit": "box", "price_fen": 18900, "on_hand": 2}
    for pharmacy, amlodipine in (
        (same_district, dear),
        (same_city, cheap),
        (own, dear),
        (elsewhere, cheap),
    ):
        await _stocked(client, operator, pharmacy["id"], [amlodipine, insulin])
    await _stocked(client, operator, lacking["id"], [{**dear, "on_hand": 10}, insulin])
    await client.put(
        f"/api/pharmacies/{same_city['id']}/delivery-areas",
        headers=operator.headers,
        json=[{**place, "district": None}],
    )
    mine = {p["id"] for p in (same_district, same_city, own, elsewhere, lacking)}
    wanted = [
        Wanted(1, uuid.UUID(AMLODIPINE), decimal.Decimal("30"), "tablet"),
        Wanted(2, uuid.UUID(INSULIN), decimal.Decimal("1"), "box"),
        Wanted(3, uuid.UUID(AMLODIPINE), decimal.Decimal("0.5"), "tablet"),
    ]
    near = Place(province, "测试市", "一区")
    async with app.state.services.db.connection() as connection:
        found = [
            p
            for p in await pharmacies_stocking(
                connection, wanted, near=near, hospital_id=uuid.UUID(hospital_id)
            )
            if str(p.pharmacy.id) in mine
        ]
        one = await pharmacies_stocking(
            connection, wanted, near=None, hospital_id=None, pharmacy_id=uuid.UUID(own["id"])
        )
        none = await pharmacies_stocking(
            connection, wanted, near=None, hospital_id=None, pharmacy_id=uuid.UUID(lacking["id"])
        )
    assert [(str(p.pharmacy.id), p.nearness) for p in found] == [
        (same_district["id"], "district"),
        (own["id"], "city"),  # the prescribing hospital's own before the cheaper one
        (same_city["id"], "city"),
        (elsewhere["id"], "elsewhere"),
    ]
    first = found[0]
    assert [(line.position, line.line_fen) for line in first.lines] == [
        (1, 3000),
        (2, 18900),
        (3, 50),
    ]
    assert first.drugs_fen == 3000 + 18900 + 50 and first.cold_chain
    assert [p.delivers for p in found] == [False, False, True, False]
    assert [p.own_hospital for p in found] == [False, True, False, False]
    assert len(one) == 1 and one[0].nearness == "elsewhere" and not one[0].own_hospital
    assert none == []


async def test_take_stock_is_all_or_nothing_and_the_last_box_goes_to_one(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    pharmacy = await register(client, operator)
    await _stocked(
        client,
        operator,
        pharmacy["id"],
        [
            {"drug_id": INSULIN, "unit": "box", "price_fen": 18900, "on_hand": 1},
            {"drug_id": METFORMIN, "unit": "tablet", "price_fen": 20, "on_hand": 100},
        ],
    )
    pharmacy_id = uuid.UUID(pharmacy["id"])
    db = app.state.services.db
    too_much = [
        Wanted(1, uuid.UUID(METFORMIN), decimal.Decimal("60"), "tablet"),
        Wanted(2, uuid.UUID(INSULIN), decimal.Decimal("2"), "box"),
        Wanted(3, uuid.UUID(AMLODIPINE), decimal.Decimal("1"), "tablet"),
    ]
    async with db.transaction() as connection:
        assert await take_stock(connection, pharmacy_id, too_much) == [2, 3]
    on_hand = "SELECT on_hand FROM pharmacy_stock WHERE pharmacy_id = $1 AND drug_id = $2"
    assert await db.fetchval(on_hand, pharmacy_id, uuid.UUID(METFORMIN)) == 100

    last_box = [
        Wanted(1, uuid.UUID(INSULIN), decimal.Decimal("1"), "box"),
        Wanted(2, uuid.UUID(METFORMIN), decimal.Decimal("30"), "tablet"),
    ]
    started = asyncio.Event()

    async def order(hold: bool) -> list[int]:
        async with db.transaction() as connection:
            taken = await take_stock(connection, pharmacy_id, last_box)
            if hold:
                started.set()
                await asyncio.sleep(0.3)  # the other order waits on the locked rows
            return taken

    async def second() -> list[int]:
        await started.wait()
        return await order(hold=False)

    results = await asyncio.gather(order(hold=True), second())
    assert list(results) == [[], [1]]
    assert await db.fetchval(on_hand, pharmacy_id, uuid.UUID(INSULIN)) == 0
    assert await db.fetchval(on_hand, pharmacy_id, uuid.UUID(METFORMIN)) == 70
