"""Drugs made for a test: names of their own, so tests sharing the session's catalog never
find each other's."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from medmarket.tests.support.fixtures import Account

# Chinese names from characters pypinyin reads one way, with a distinct tail per test.
_TAILS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


def unique_names() -> tuple[str, str]:
    number = uuid.uuid4().int
    tail = "".join(_TAILS[(number >> (5 * i)) % len(_TAILS)] for i in range(6))
    return f"试验药{tail}", f"trialdrug {uuid.uuid4().hex[:10]}"


def drug_body(**changes: Any) -> dict[str, Any]:
    zh, en = unique_names()
    body: dict[str, Any] = {
        "generic_name_zh": zh,
        "generic_name_en": en,
        "aliases": [],
        "dosage_form": "tablet",
        "strength": "5",
        "unit": "mg",
        "route": "oral",
        "atc_code": "C08CA01",
        "prescription_only": True,
        "special_class": None,
    }
    body.update(changes)
    return body


async def add_drug(http: httpx.AsyncClient, operator: Account, **changes: Any) -> dict[str, Any]:
    response = await http.post("/api/drugs", json=drug_body(**changes), headers=operator.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
