"""Doctors find drugs as they type, in Chinese, pinyin or English, best match first; retired
drugs are not offered (operators may ask for them); search is for signed-in staff only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from medmarket.drugs.tests.helpers import add_drug
from medmarket.tests.support.fixtures import Account


@pytest.fixture
async def doctor(sign_up: Any) -> Account:
    account: Account = await sign_up("doctor")
    return account


async def search(http: httpx.AsyncClient, who: Account, q: str, **params: Any) -> list[Any]:
    response = await http.get("/api/drugs", params={"q": q, **params}, headers=who.headers)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["drugs"]
    return found


def names(found: list[dict[str, Any]]) -> list[str]:
    return [drug["generic_name_zh"] for drug in found]


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("氨氯地平", "氨氯地平"),  # Chinese, whole
        ("氨氯", "氨氯地平"),  # Chinese, as typing begins
        ("莫西林", "阿莫西林"),  # Chinese, inside the name
        ("akbt", "阿卡波糖"),  # pinyin initials
        ("AKBT", "阿卡波糖"),
        ("aldp", "氨氯地平"),
        ("ejsg", "二甲双胍"),
        ("erjiashuang", "二甲双胍"),  # pinyin spelled
        ("metformin", "二甲双胍"),  # English
        ("Metfor", "二甲双胍"),
        ("aspirin", "阿司匹林"),  # an alias
        ("acetaminophen", "对乙酰氨基酚"),
        ("扑热息痛", "对乙酰氨基酚"),  # a Chinese alias
        ("prxt", "对乙酰氨基酚"),  # … and its initials
        ("glargine", "甘精胰岛素"),  # a later word of the English name
        ("C10AA05", "阿托伐他汀"),  # an ATC code
        ("ＡＭＬＯ", "氨氯地平"),  # full-width letters, as some input methods type them
        ("amoxcilin", "阿莫西林"),  # a typo
        ("阿莫西临", "阿莫西林"),  # a wrong character
    ],
)
async def test_doctors_find_a_drug_however_they_type_it(
    client: httpx.AsyncClient, doctor: Account, typed: str, first: str
) -> None:
    found = await search(client, doctor, typed)
    assert found and found[0]["generic_name_zh"] == first, names(found)


async def test_exact_and_prefix_matches_come_before_the_rest(
    client: httpx.AsyncClient, doctor: Account
) -> None:
    # The name itself first, then names that start with it (the combination).
    found = names(await search(client, doctor, "阿莫西林"))
    assert found[:3] == ["阿莫西林", "阿莫西林", "阿莫西林克拉维酸钾"]
    # A name that starts with it before one that only holds it: amoxicillin before tamoxifen.
    found = names(await search(client, doctor, "amox"))
    assert found.index("阿莫西林克拉维酸钾") < found.index("他莫昔芬")
    # Each form's strengths together, smaller first.
    metformin = [
        (d["dosage_form"], d["strength"]) for d in await search(client, doctor, "二甲双胍")
    ]
    assert metformin == [
        ("sustained_release_tablet", "0.5"),
        ("tablet", "0.25"),
        ("tablet", "0.5"),
    ]
    # A group of the ATC code finds its members, and each carries its levels.
    members = await search(client, doctor, "C08CA")
    codes = [drug["atc_code"] for drug in members]
    dihydropyridines = sum(code.startswith("C08CA") for code in codes)
    assert dihydropyridines >= 7
    assert all(code.startswith("C08CA") for code in codes[:dihydropyridines])
    assert members[0]["atc_levels"][-2] == "C08CA"
    # Only what matches as typed when something does: no look-alikes after amlodipine.
    assert {d["generic_name_en"] for d in await search(client, doctor, "amlodipine")} == {
        "amlodipine"
    }
    assert {d["generic_name_zh"] for d in await search(client, doctor, "aldp")} == {"氨氯地平"}


async def test_results_are_limited(client: httpx.AsyncClient, doctor: Account) -> None:
    assert len(await search(client, doctor, "a", limit=7)) == 7
    assert len(await search(client, doctor, "a")) == 20
    too_many = await client.get(
        "/api/drugs", params={"q": "a", "limit": 51}, headers=doctor.headers
    )
    assert too_many.status_code == 400 or too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "limit"


async def test_a_query_too_long_or_empty_is_refused_naming_q(
    client: httpx.AsyncClient, doctor: Account
) -> None:
    for q in ("x" * 51, "   "):
        response = await client.get("/api/drugs", params={"q": q}, headers=doctor.headers)
        assert response.status_code in (400, 422), response.text
        assert response.json()["errors"][0]["field"] == "q"
    assert await search(client, doctor, "%_\\") == []  # wildcards are only characters


async def test_retired_drugs_are_not_offered_unless_an_operator_asks(
    client: httpx.AsyncClient, doctor: Account, operator: Account
) -> None:
    drug = await add_drug(client, operator)
    assert (await search(client, doctor, drug["generic_name_zh"]))[0]["id"] == drug["id"]
    await client.post(f"/api/drugs/{drug['id']}/retire", headers=operator.headers)
    for typed in (drug["generic_name_zh"], drug["pinyin_initials"], drug["generic_name_en"]):
        assert drug["id"] not in [d["id"] for d in await search(client, doctor, typed)]
        assert drug["id"] not in [d["id"] for d in await search(client, operator, typed)]
    asked = await search(client, operator, drug["generic_name_zh"], include_retired="true")
    assert (asked[0]["id"], asked[0]["retired_at"] is not None) == (drug["id"], True)
    refused = await client.get(
        "/api/drugs",
        params={"q": drug["generic_name_zh"], "include_retired": "true"},
        headers=doctor.headers,
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "include_retired"
    # Still there by its id, for whatever already names it.
    kept = await client.get(f"/api/drugs/{drug['id']}", headers=doctor.headers)
    assert kept.status_code == 200 and kept.json()["retired_at"] is not None


async def test_pharmacists_search_patients_and_strangers_do_not(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    pharmacist, patient = await sign_up("pharmacist"), await sign_up("patient")
    assert names(await search(client, pharmacist, "aldp"))[0] == "氨氯地平"
    refused = await client.get("/api/drugs", params={"q": "aldp"}, headers=patient.headers)
    assert refused.status_code == 403
    anonymous = await client.get("/api/drugs", params={"q": "aldp"})
    assert anonymous.status_code == 401


async def test_special_classes_are_shown_for_the_rules_that_refuse_them_online(
    client: httpx.AsyncClient, doctor: Account
) -> None:
    morphine = await search(client, doctor, "吗啡")
    assert {(d["special_class"], d["prescription_only"]) for d in morphine} == {("narcotic", True)}
    [diazepam, *_] = await search(client, doctor, "diazepam")
    assert diazepam["special_class"] == "psychotropic_2"
    [paracetamol, *_] = await search(client, doctor, "paracetamol")
    assert (paracetamol["special_class"], paracetamol["prescription_only"]) == (None, False)
