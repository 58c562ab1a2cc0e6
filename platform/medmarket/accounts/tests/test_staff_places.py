"""Invitations place staff through the places higher domains provide (``STAFF_PLACES``): a
field naming a place of another role's kind, or a place that does not exist, is a 422 naming
it; accepting the invitation places the account and the sign-up's event says where; and the
platform does not start with two places answering to one field."""

from __future__ import annotations

import uuid

import httpx
import pytest
from litestar import Litestar

from medmarket.accounts.places import STAFF_PLACES, check_places
from medmarket.hospitals.staff import HospitalAdmins
from medmarket.tests.support.fixtures import Account, sign_up_and_in, unique_email


async def test_the_platform_provides_a_place_per_invitation_field(app: Litestar) -> None:
    places = app.state.services.ports.collect(STAFF_PLACES)
    assert {place.field: place.role for place in places} == {
        "hospital_id": "hospital_admin",
        "pharmacy_id": "pharmacist",
    }


def test_two_places_for_one_field_stop_the_platform() -> None:
    with pytest.raises(RuntimeError, match="hospital_id"):
        check_places([HospitalAdmins(), HospitalAdmins()])


@pytest.mark.parametrize(
    ("role", "field"),
    [("pharmacist", "hospital_id"), ("hospital_admin", "pharmacy_id"), ("operator", "pharmacy_id")],
)
async def test_a_place_for_another_role_is_a_422_naming_its_field(
    client: httpx.AsyncClient, operator: Account, role: str, field: str
) -> None:
    response = await client.post(
        "/api/invitations",
        headers=operator.headers,
        json={"email": unique_email(role), "role": role, field: str(uuid.uuid4())},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["errors"][0]["code"] == "wrong-role"


async def test_a_place_that_does_not_exist_is_a_422_naming_its_field(
    client: httpx.AsyncClient, operator: Account
) -> None:
    response = await client.post(
        "/api/invitations",
        headers=operator.headers,
        json={"email": unique_email(), "role": "hospital_admin", "hospital_id": str(uuid.uuid4())},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "hospital_id",
        "message": "there is no such partner hospital",
        "code": "invalid",
    }


async def test_accepting_places_the_account_and_the_sign_up_says_where(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    hospital = await client.post(
        "/api/hospitals",
        headers=operator.headers,
        json={"name": f"测试医院 {uuid.uuid4().hex[:8]}", "level": "一级", "region": "杭州"},
    )
    hospital_id = hospital.json()["id"]
    email = unique_email("hospital-admin")
    invited = await client.post(
        "/api/invitations",
        headers=operator.headers,
        json={"email": email, "role": "hospital_admin", "hospital_id": hospital_id},
    )
    assert invited.status_code == 201, invited.text
    admin = await sign_up_and_in(
        client, "hospital_admin", invitation=invited.json()["token"], email=email
    )
    db = app.state.services.db
    placed = await db.fetchval(
        "SELECT hospital_id::text FROM hospital_admins WHERE user_id = $1", uuid.UUID(admin.id)
    )
    assert placed == hospital_id
    detail = await db.fetchval(
        "SELECT detail FROM audit_events WHERE action = 'account.signed_up' AND subject_id = $1",
        admin.id,
    )
    assert detail == {"role": "hospital_admin", "invited": True, "hospital_id": hospital_id}
