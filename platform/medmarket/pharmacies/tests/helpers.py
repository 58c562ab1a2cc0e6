"""Pharmacies, hospitals and hospital admins made for a test, with names and licence
numbers of their own."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from medmarket.tests.support.fixtures import Account, sign_up_and_in, unique_email

WEEKDAYS_8_TO_8 = [{"weekday": day, "opens": "08:00", "closes": "20:00"} for day in range(1, 6)]


def unique_licence() -> str:
    return f"浙CB{uuid.uuid4().int % 10**9:09d}"


def pharmacy_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name_zh": f"测试大药房 {uuid.uuid4().hex[:6]}",
        "name_en": "Test Pharmacy",
        "kind": "independent",
        "licence_number": unique_licence(),
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address": "文三路 100 号",
        "phone": "0571-8888 1234",
        "opening_hours": WEEKDAYS_8_TO_8,
        "reviews_prescriptions": True,
        "dispenses": True,
    }
    body.update(changes)
    return body


async def register(http: httpx.AsyncClient, account: Account, **changes: Any) -> dict[str, Any]:
    response = await http.post(
        "/api/pharmacies", json=pharmacy_body(**changes), headers=account.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def hospital_with_admin(http: httpx.AsyncClient, operator: Account) -> tuple[str, Account]:
    """A partner hospital and an admin of it, by the real invitation."""
    hospital = await http.post(
        "/api/hospitals",
        headers=operator.headers,
        json={"name": f"测试医院 {uuid.uuid4().hex[:8]}", "level": "二级甲等", "region": "杭州"},
    )
    assert hospital.status_code == 201, hospital.text
    hospital_id: str = hospital.json()["id"]
    email = unique_email("hospital-admin")
    invited = await http.post(
        f"/api/hospitals/{hospital_id}/admin-invitations",
        headers=operator.headers,
        json={"email": email},
    )
    assert invited.status_code == 201, invited.text
    admin = await sign_up_and_in(
        http, "hospital_admin", invitation=invited.json()["token"], email=email
    )
    return hospital_id, admin


async def audit_of(http: httpx.AsyncClient, operator: Account, pharmacy_id: str) -> list[Any]:
    """The pharmacy's audit events, oldest first."""
    response = await http.get(
        "/api/audit",
        headers=operator.headers,
        params={"subject_type": "pharmacy", "subject_id": pharmacy_id},
    )
    assert response.status_code == 200, response.text
    events: list[Any] = response.json()
    return events[::-1]
