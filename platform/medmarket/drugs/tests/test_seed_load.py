"""The seed catalog is in every test session's database (as in the demo's), with the same
ids everywhere; loading it again adds nothing and never undoes an operator's change."""

from __future__ import annotations

import httpx
from litestar import Litestar

from medmarket.drugs.seed import load_seed, read_seed, seed_id
from medmarket.tests.support.fixtures import Account


async def test_the_seed_is_loaded_with_ids_fixed_by_its_keys(app: Litestar) -> None:
    db = app.state.services.db
    seeded = await db.fetchval("SELECT count(*) FROM drugs WHERE source = 'seed'")
    assert seeded == len(read_seed())
    amlodipine = await db.fetchrow(
        "SELECT generic_name_zh, atc_code, pinyin_initials FROM drugs WHERE id = $1",
        seed_id("amlodipine-tab-5mg"),
    )
    assert dict(amlodipine) == {
        "generic_name_zh": "氨氯地平",
        "atc_code": "C08CA01",
        "pinyin_initials": "aldp",
    }
    loaded = await db.fetchval(
        "SELECT detail->>'added' FROM audit_events WHERE action = 'drug.catalog_loaded' "
        "AND actor_role = 'system' ORDER BY id LIMIT 1"
    )
    assert loaded == str(len(read_seed()))


async def test_loading_again_adds_nothing_and_keeps_operators_changes(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    drug_id = seed_id("zolpidem-tab-10mg")
    retired = await client.post(f"/api/drugs/{drug_id}/retire", headers=operator.headers)
    assert retired.status_code == 200, retired.text
    try:
        async with app.state.services.db.connection() as connection:
            assert await load_seed(connection) == 0
        kept = await client.get(f"/api/drugs/{drug_id}", headers=operator.headers)
        assert kept.json()["retired_at"] is not None
    finally:
        await client.post(f"/api/drugs/{drug_id}/restore", headers=operator.headers)


async def test_the_seed_marks_insulin_kept_cold(app: Litestar) -> None:
    db = app.state.services.db
    cold = await db.fetchval(
        "SELECT cold_chain FROM drugs WHERE id = $1", seed_id("insulin-human-inj-100iu-ml")
    )
    warm = await db.fetchval(
        "SELECT cold_chain FROM drugs WHERE id = $1", seed_id("amlodipine-tab-5mg")
    )
    assert cold is True and warm is False
