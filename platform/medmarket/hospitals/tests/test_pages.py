"""Hospital pages over HTTP: the adapter form generated from the adapter type's schema
(secrets never shown back), testing the connection, the hospital's doctors and ending an
affiliation; operators registering hospitals and inviting admins."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from litestar import Litestar

from medmarket.tests.support.factories import (
    DEMO_ADAPTER,
    approved_doctor,
    hospital_with_demo_adapter,
)
from medmarket.tests.support.fixtures import Account, client_for
from medmarket.tests.support.pages import (
    browser_session,
    error_beside,
    field_value,
    get_page,
    post_form,
    text_of,
)

FHIR = "fhir-r4"


async def test_an_admin_configures_the_adapter_from_its_schema_and_tests_it(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    await browser_session(client, hospital.admin)
    mine = await get_page(client, "/hospital")
    assert mine.status_code == 303 and mine.headers["location"] == f"/hospital/{hospital.id}"
    page = (await get_page(client, f"/hospital/{hospital.id}")).text
    assert field_value(page, "config.hospital_code") == hospital.hospital_code
    assert field_value(page, "config.staff") == "[]"
    path = f"/hospital/{hospital.id}/adapter"

    broken = await post_form(
        client,
        path,
        {"type": DEMO_ADAPTER, "config.hospital_code": "lower case", "config.staff": "[{"},
    )
    assert broken.status_code == 422
    assert error_beside(broken.text, "config.staff") == (
        "错误：这不是有效的 JSON，请检查括号、引号和逗号。"
    )
    assert field_value(broken.text, "config.hospital_code") == "lower case"  # kept
    refused = await post_form(
        client, path, {"type": DEMO_ADAPTER, "config.hospital_code": "lower case"}
    )
    assert refused.status_code == 422
    assert error_beside(refused.text, "config.hospital_code") is not None
    staff = '[{"licence_number": "12345", "full_name": "x", "title": "主治医师"}]'
    nested = await post_form(
        client,
        path,
        {"type": DEMO_ADAPTER, "config.hospital_code": "H-1", "config.staff": staff},
    )
    assert nested.status_code == 422
    assert error_beside(nested.text, "config.staff") is not None  # staff[0].department missing

    saved = await post_form(client, path, {"type": DEMO_ADAPTER, "config.hospital_code": "H-9"})
    assert saved.status_code == 303
    tested = await post_form(
        client, f"/hospital/{hospital.id}/adapter/test", {}, from_page=f"/hospital/{hospital.id}"
    )
    assert tested.status_code == 200
    assert "连接成功" in text_of(tested.text)


async def test_secrets_are_never_shown_back_and_kept_when_left_empty(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    await browser_session(client, hospital.admin)
    form = (await get_page(client, f"/hospital/{hospital.id}?type={FHIR}")).text
    assert 'name="config.bearer_token" type="password"' in form
    fields = {
        "type": FHIR,
        "config.base_url": "https://fhir.example.org/r4",
        "config.licence_system": "urn:oid:1.2.156.112604",
        "config.organization_id": "org-1",
        "config.timeout_seconds": "3",
    }
    saved = await post_form(
        client,
        f"/hospital/{hospital.id}/adapter",
        fields | {"config.bearer_token": "very-secret-token-42"},
    )
    assert saved.status_code == 303, saved.text
    page = (await get_page(client, f"/hospital/{hospital.id}")).text
    assert "very-secret-token-42" not in page
    assert field_value(page, "config.bearer_token") == ""
    assert "已设置（不显示）" in page
    assert field_value(page, "config.base_url") == "https://fhir.example.org/r4"
    # A failed save shows what was typed, except the secret.
    failed = await post_form(
        client,
        f"/hospital/{hospital.id}/adapter",
        fields | {"config.base_url": "not a url", "config.bearer_token": "another-secret-77"},
    )
    assert failed.status_code == 422
    assert "another-secret-77" not in failed.text
    assert field_value(failed.text, "config.base_url") == "not a url"
    again = await post_form(client, f"/hospital/{hospital.id}/adapter", fields)
    assert again.status_code == 303
    settings = (await client.get(f"/api/hospitals/{hospital.id}/settings")).json()
    assert settings["adapter"]["secrets_set"] == ["bearer_token"]  # kept


async def test_an_admin_sees_their_doctors_and_ends_an_affiliation(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await approved_doctor(app, hospital=hospital, full_name="郑 医生")
    await browser_session(client, hospital.admin)
    page = text_of((await get_page(client, f"/hospital/{hospital.id}")).text)
    assert "郑 医生" in page and "已通过" in page
    review = (await get_page(client, f"/review/doctors/{doctor.doctor_id}")).text
    assert "解除与本院的关系" in review and "批准" not in text_of(review)
    assert "医院确认执业证书有效" in review  # the checks' evidence
    path = f"/review/doctors/{doctor.doctor_id}/end-affiliation"
    empty = await post_form(
        client, path, {"reason": " "}, from_page=f"/review/doctors/{doctor.doctor_id}"
    )
    assert empty.status_code == 422
    assert error_beside(empty.text, "reason") == "错误：请写明理由。"
    ended = await post_form(
        client, path, {"reason": "已离职"}, from_page=f"/review/doctors/{doctor.doctor_id}"
    )
    assert ended.status_code == 303
    after = text_of((await get_page(client, ended.headers["location"])).text)
    assert "已解除与本院的关系" in after and "已暂停" in after and "已离职" in after
    # An operator-only decision is refused to the admin.
    refused = await post_form(
        client,
        f"/review/doctors/{doctor.doctor_id}/reinstate",
        {"reason": "x"},
        from_page=f"/hospital/{hospital.id}",
    )
    assert refused.status_code == 403
    # Another hospital's admin is told the doctor does not exist.
    other = await hospital_with_demo_adapter(app)
    async with client_for(app) as stranger:
        await browser_session(stranger, other.admin)
        assert (await get_page(stranger, f"/review/doctors/{doctor.doctor_id}")).status_code == 404
        assert (await get_page(stranger, f"/hospital/{hospital.id}")).status_code == 404


async def test_an_operator_registers_a_hospital_and_invites_its_admin(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    await browser_session(client, operator)
    missing = await post_form(
        client, "/operator/hospitals", {"name": "", "level": "三级甲等", "region": "湖北"}
    )
    assert missing.status_code == 422
    assert error_beside(missing.text, "name") == "错误：请填写此项。"
    assert field_value(missing.text, "region") == "湖北"
    name = f"恩施州中心医院 {uuid.uuid4().hex[:6]}"
    created = await post_form(
        client,
        "/operator/hospitals",
        {
            "name": name,
            "level": "三级甲等",
            "region": "湖北省恩施州",
            "departments": "心内科\n儿科",
        },
    )
    assert created.status_code == 303
    hospital_path = created.headers["location"].split("?")[0]
    twice = await post_form(
        client, "/operator/hospitals", {"name": name, "level": "三级甲等", "region": "湖北省"}
    )
    assert twice.status_code == 409
    assert error_beside(twice.text, "name") == "错误：已经有同名的合作医院了。"
    invited = await post_form(
        client,
        f"{hospital_path}/invite",
        {"email": "admin@enshi.example.org"},
        from_page=hospital_path,
    )
    assert invited.status_code == 201
    shown = re.search(r'id="invitation-link" type="text" readonly value="([^"]+)"', invited.text)
    assert shown, "the invitation's link is shown once"
    link = shown[1]
    assert "/sign-up?invitation=" in link
    token = link.split("invitation=")[1]
    async with client_for(app) as newcomer:
        page = (await get_page(newcomer, f"/sign-up?invitation={token}")).text
    assert "医院管理员" in page and "admin@enshi.example.org" in page
    listing = text_of((await get_page(client, "/operator/hospitals")).text)
    assert name in listing
