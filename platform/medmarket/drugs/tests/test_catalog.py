"""Operators add, edit, retire and restore drugs over the API, each change audited in the
same transaction; the database keeps one row per product and never loses a drug; nobody
else may change the catalog, and a bad field is named."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from medmarket import audit
from medmarket.drugs.tests.helpers import add_drug, drug_body
from medmarket.tests.support.fixtures import Account


async def audit_of(app: Litestar, drug_id: str) -> list[dict[str, Any]]:
    rows = await app.state.services.db.fetch(
        "SELECT action, actor_id::text, actor_role, detail FROM audit_events "
        "WHERE subject_type = 'drug' AND subject_id = $1 ORDER BY id",
        drug_id,
    )
    return [dict(row) for row in rows]


async def test_an_operator_adds_edits_retires_and_restores_a_drug_each_audited(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    created = await add_drug(
        client, operator, aliases=["试验别名", "TestAlias", "TestAlias"], atc_code="C08CA05"
    )
    assert created["source"] == "operator" and created["retired_at"] is None
    assert created["aliases"] == ["试验别名", "TestAlias"]  # repeats dropped
    assert created["atc_levels"] == ["C", "C08", "C08C", "C08CA", "C08CA05"]
    assert created["pinyin_initials"].startswith("syy")  # 试验药…
    [event] = await audit_of(app, created["id"])
    assert (event["action"], event["actor_id"], event["actor_role"]) == (
        "drug.created",
        operator.id,
        "operator",
    )
    assert event["detail"]["atc_code"] == "C08CA05"

    edited = {**drug_body(), "generic_name_zh": created["generic_name_zh"]}
    edited |= {"generic_name_en": created["generic_name_en"], "strength": "10"}
    response = await client.put(
        f"/api/drugs/{created['id']}", json=edited, headers=operator.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["strength"] == "10"
    assert response.json()["id"] == created["id"]
    changed = (await audit_of(app, created["id"]))[-1]
    assert changed["action"] == "drug.updated"
    assert changed["detail"]["changed"]["strength"] == ["5", "10"]
    assert changed["detail"]["changed"]["atc_code"] == ["C08CA05", "C08CA01"]
    assert "generic_name_zh" not in changed["detail"]["changed"]

    retired = await client.post(f"/api/drugs/{created['id']}/retire", headers=operator.headers)
    assert retired.status_code == 200 and retired.json()["retired_at"] is not None
    again = await client.post(f"/api/drugs/{created['id']}/retire", headers=operator.headers)
    assert again.status_code == 409
    assert again.json()["errors"][0] == {
        "field": "retired_at",
        "message": "this drug is already retired",
        "code": "retired",
    }
    # Kept, and found by its id: a prescription naming it still does.
    kept = await client.get(f"/api/drugs/{created['id']}", headers=operator.headers)
    assert kept.status_code == 200 and kept.json()["retired_at"] is not None
    restored = await client.post(f"/api/drugs/{created['id']}/restore", headers=operator.headers)
    assert restored.status_code == 200 and restored.json()["retired_at"] is None
    actions = [event["action"] for event in await audit_of(app, created["id"])]
    assert actions == ["drug.created", "drug.updated", "drug.retired", "drug.restored"]


async def test_one_row_per_product_a_second_is_a_409_naming_the_generic_name(
    client: httpx.AsyncClient, operator: Account
) -> None:
    first = await add_drug(client, operator)
    same_zh = drug_body(generic_name_zh=first["generic_name_zh"])
    refused = await client.post("/api/drugs", json=same_zh, headers=operator.headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "generic_name_zh"
    assert refused.json()["errors"][0]["code"] == "taken"
    # English is compared without regard to case.
    same_en = drug_body(generic_name_en=first["generic_name_en"].upper())
    refused = await client.post("/api/drugs", json=same_en, headers=operator.headers)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "generic_name_en"
    # Another strength, or another form, is another product.
    for other in ({"strength": "10"}, {"dosage_form": "capsule"}):
        body = {**drug_body(), **other, "generic_name_zh": first["generic_name_zh"]}
        body["generic_name_en"] = first["generic_name_en"]
        response = await client.post("/api/drugs", json=body, headers=operator.headers)
        assert response.status_code == 201, response.text
    # An edit into an existing product is refused the same way.
    other = await add_drug(client, operator)
    moved = {**drug_body(), "generic_name_zh": first["generic_name_zh"]}
    response = await client.put(f"/api/drugs/{other['id']}", json=moved, headers=operator.headers)
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "generic_name_zh"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"atc_code": "C08CA1"}, "atc_code"),
        ({"atc_code": "c08ca01"}, "atc_code"),
        ({"atc_code": "C08CA"}, "atc_code"),  # a group, not a substance
        ({"strength": "5 mg"}, "strength"),
        ({"dosage_form": "pill"}, "dosage_form"),
        ({"unit": "tablets"}, "unit"),
        ({"route": "by mouth"}, "route"),
        ({"special_class": "dangerous"}, "special_class"),
        ({"generic_name_zh": ""}, "generic_name_zh"),
        ({"generic_name_en": "   "}, "generic_name_en"),
        ({"aliases": ["x"] * 11}, "aliases"),
        ({"special_class": "narcotic", "prescription_only": False}, "prescription_only"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_a_bad_field_is_a_422_naming_it(
    client: httpx.AsyncClient, operator: Account, changes: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/drugs", json=drug_body(**changes), headers=operator.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/validation"
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize("role", ["patient", "doctor", "pharmacist", "hospital_admin"])
async def test_only_operators_change_the_catalog(
    client: httpx.AsyncClient, sign_up: Any, operator: Account, role: str
) -> None:
    account = await sign_up(role)
    drug = await add_drug(client, operator)
    attempts = [
        client.post("/api/drugs", json=drug_body(), headers=account.headers),
        client.put(f"/api/drugs/{drug['id']}", json=drug_body(), headers=account.headers),
        client.post(f"/api/drugs/{drug['id']}/retire", headers=account.headers),
        client.post(f"/api/drugs/{drug['id']}/restore", headers=account.headers),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 403, response.text
        assert response.json()["type"] == "/problems/forbidden"


async def test_an_unknown_drug_is_not_found(client: httpx.AsyncClient, operator: Account) -> None:
    missing = uuid.uuid4()
    assert (await client.get(f"/api/drugs/{missing}", headers=operator.headers)).status_code == 404
    response = await client.put(f"/api/drugs/{missing}", json=drug_body(), headers=operator.headers)
    assert response.status_code == 404
    response = await client.post(f"/api/drugs/{missing}/retire", headers=operator.headers)
    assert response.status_code == 404


async def test_a_change_whose_audit_event_fails_is_not_made(
    app: Litestar,
    client: httpx.AsyncClient,
    operator: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drug = await add_drug(client, operator)
    body = drug_body()

    async def broken_record(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit trail could not be written")

    monkeypatch.setattr(audit, "record", broken_record)
    created = await client.post("/api/drugs", json=body, headers=operator.headers)
    retired = await client.post(f"/api/drugs/{drug['id']}/retire", headers=operator.headers)
    monkeypatch.undo()
    assert (created.status_code, retired.status_code) == (500, 500)
    db = app.state.services.db
    assert (
        await db.fetchval(
            "SELECT count(*) FROM drugs WHERE generic_name_zh = $1", body["generic_name_zh"]
        )
        == 0
    )
    assert (
        await db.fetchval("SELECT retired_at FROM drugs WHERE id = $1", uuid.UUID(drug["id"]))
        is None
    )


@pytest.mark.parametrize("statement", ["DELETE FROM drugs WHERE id = $1", "TRUNCATE drugs"])
async def test_a_drug_is_never_deleted(
    app: Litestar,
    client: httpx.AsyncClient,
    operator: Account,
    database_url: str,
    statement: str,
) -> None:
    drug = await add_drug(client, operator)
    arguments = [uuid.UUID(drug["id"])] if "$1" in statement else []
    async with app.state.services.db.connection() as connection:  # the application's role
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(statement, *arguments)
    # The owner is stopped by the trigger; a TRUNCATE even before it, by the prescriptions'
    # items that refer to drugs.
    owner = await asyncpg.connect(database_url)
    try:
        with pytest.raises(
            (asyncpg.InsufficientPrivilegeError, asyncpg.FeatureNotSupportedError),
            match=r"never deleted|prescription_items",
        ):
            await owner.execute(statement, *arguments)
    finally:
        await owner.close()
    assert (
        await client.get(f"/api/drugs/{drug['id']}", headers=operator.headers)
    ).status_code == 200
