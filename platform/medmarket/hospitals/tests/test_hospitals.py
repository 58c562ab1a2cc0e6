"""Operators register partner hospitals and invite their admins; each admin manages only their
own hospital, and any other hospital answers like one that does not exist."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from litestar import Litestar

from medmarket.tests.support.factories import approved_doctor, hospital_with_demo_adapter
from medmarket.tests.support.fixtures import Account, sign_up_and_in, unique_email

HOSPITAL = {
    "name": "",
    "level": "三级甲等",
    "region": "浙江省杭州市",
    "departments": ["心内科", " 儿科 ", "心内科"],
}


def new_hospital(**changes: Any) -> dict[str, Any]:
    return {**HOSPITAL, "name": f"测试医院 {uuid.uuid4().hex[:8]}", **changes}


async def register(client: httpx.AsyncClient, operator: Account, **changes: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/hospitals", headers=operator.headers, json=new_hospital(**changes)
    )
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


async def invite_admin(client: httpx.AsyncClient, operator: Account, hospital_id: str) -> Account:
    email = unique_email("hospital-admin")
    invited = await client.post(
        f"/api/hospitals/{hospital_id}/admin-invitations",
        headers=operator.headers,
        json={"email": email},
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["role"] == "hospital_admin"
    return await sign_up_and_in(
        client, "hospital_admin", invitation=invited.json()["token"], email=email
    )


async def test_operator_registers_a_hospital(client: httpx.AsyncClient, operator: Account) -> None:
    hospital = await register(client, operator)
    assert hospital["level"] == "三级甲等"
    assert hospital["departments"] == ["心内科", "儿科"]  # trimmed, repeats dropped
    assert hospital["status"] == "active" and hospital["adapter"] is None
    audit = await client.get(
        "/api/audit",
        headers=operator.headers,
        params={"subject_type": "hospital", "subject_id": hospital["id"]},
    )
    assert [event["action"] for event in audit.json()] == ["hospital.created"]


async def test_hospital_names_are_unique_and_fields_are_named(
    client: httpx.AsyncClient, operator: Account
) -> None:
    hospital = await register(client, operator)
    again = await client.post(
        "/api/hospitals", headers=operator.headers, json={**HOSPITAL, "name": hospital["name"]}
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "name"
    bad_level = await client.post(
        "/api/hospitals", headers=operator.headers, json=new_hospital(level="四级特等")
    )
    assert bad_level.status_code == 422
    assert bad_level.json()["errors"][0]["field"] == "level"
    blank = await client.post(
        "/api/hospitals", headers=operator.headers, json=new_hospital(region="  ")
    )
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "region"


async def test_public_directory_lists_active_hospitals_only(
    client: httpx.AsyncClient, operator: Account
) -> None:
    hospital = await register(client, operator)
    listed = await client.get("/api/hospitals")
    assert hospital["id"] in {h["id"] for h in listed.json()}
    assert "adapter" not in listed.text and "status" not in listed.json()[0]
    suspended = await client.patch(
        f"/api/hospitals/{hospital['id']}", headers=operator.headers, json={"status": "suspended"}
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert hospital["id"] not in {h["id"] for h in (await client.get("/api/hospitals")).json()}
    assert (await client.get(f"/api/hospitals/{hospital['id']}")).status_code == 404


async def test_operator_changes_a_hospital(client: httpx.AsyncClient, operator: Account) -> None:
    hospital = await register(client, operator, name_en="Old name")
    changed = await client.patch(
        f"/api/hospitals/{hospital['id']}",
        headers=operator.headers,
        json={"level": "二级甲等", "name_en": "", "departments": ["皮肤科"]},
    )
    body = changed.json()
    assert (body["level"], body["name_en"], body["departments"]) == ("二级甲等", None, ["皮肤科"])
    assert body["name"] == hospital["name"]  # left out, so kept


async def test_accepted_invitation_makes_an_admin_of_that_hospital(
    client: httpx.AsyncClient, operator: Account
) -> None:
    hospital = await register(client, operator)
    admin = await invite_admin(client, operator, hospital["id"])
    mine = await client.get("/api/me/hospitals", headers=admin.headers)
    assert [h["id"] for h in mine.json()] == [hospital["id"]]
    settings = await client.get(f"/api/hospitals/{hospital['id']}/settings", headers=admin.headers)
    assert [a["email"] for a in settings.json()["admins"]] == [admin.email]


async def test_invitation_for_an_unknown_hospital_is_refused(
    client: httpx.AsyncClient, operator: Account
) -> None:
    response = await client.post(
        "/api/invitations",
        headers=operator.headers,
        json={"email": unique_email(), "role": "hospital_admin", "hospital_id": str(uuid.uuid4())},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "hospital_id"
    via_hospital = await client.post(
        f"/api/hospitals/{uuid.uuid4()}/admin-invitations",
        headers=operator.headers,
        json={"email": unique_email()},
    )
    assert via_hospital.status_code == 404


async def test_admin_of_one_hospital_cannot_touch_another(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    ours = await hospital_with_demo_adapter(app)
    theirs = await hospital_with_demo_adapter(app)
    missing = uuid.uuid4()

    def same_as_missing(response: httpx.Response, missing_response: httpx.Response) -> None:
        assert response.status_code == missing_response.status_code == 404
        strip = {"instance"}
        assert {k: v for k, v in response.json().items() if k not in strip} == {
            k: v for k, v in missing_response.json().items() if k not in strip
        }

    headers = ours.admin.headers
    for method, suffix, body in (
        ("GET", "/settings", None),
        ("PUT", "/adapter", {"type": "demo-registry", "config": {"hospital_code": "X1"}}),
        ("POST", "/adapter/test", None),
    ):
        foreign = await client.request(
            method, f"/api/hospitals/{theirs.id}{suffix}", headers=headers, json=body
        )
        absent = await client.request(
            method, f"/api/hospitals/{missing}{suffix}", headers=headers, json=body
        )
        same_as_missing(foreign, absent)
    mine = await client.get("/api/me/hospitals", headers=headers)
    assert [h["id"] for h in mine.json()] == [ours.id]
    # Their configuration is untouched.
    theirs_now = await client.get(
        f"/api/hospitals/{theirs.id}/settings", headers=theirs.admin.headers
    )
    assert theirs_now.json()["adapter"]["config"]["hospital_code"] == theirs.hospital_code


async def test_hospital_admins_cannot_register_or_change_hospitals(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    created = await client.post(
        "/api/hospitals", headers=hospital.admin.headers, json=new_hospital()
    )
    changed = await client.patch(
        f"/api/hospitals/{hospital.id}",
        headers=hospital.admin.headers,
        json={"status": "suspended"},
    )
    assert created.status_code == changed.status_code == 403


async def test_a_suspended_hospitals_doctors_are_not_bookable(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await approved_doctor(app, hospital=hospital)
    bookable = "SELECT count(*) FROM bookable_doctors WHERE id = $1::uuid"
    db = app.state.services.db
    assert await db.fetchval(bookable, doctor.doctor_id) == 1
    await client.patch(
        f"/api/hospitals/{hospital.id}", headers=operator.headers, json={"status": "suspended"}
    )
    assert await db.fetchval(bookable, doctor.doctor_id) == 0
    settings = await client.get(f"/api/hospitals/{hospital.id}/settings", headers=operator.headers)
    assert settings.json()["doctors_by_status"] == {"approved": 1}
