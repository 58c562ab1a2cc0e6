"""Patients' pages over HTTP: the two steps after signing up (real-name details, then the
separate health-data consent with its text), and family members."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar

from medmarket.patients.service import CURRENT_POLICY_VERSION
from medmarket.tests.support.fixtures import STRONG_PASSWORD, Account, unique_email
from medmarket.tests.support.pages import (
    browser_session,
    checked,
    error_beside,
    field_value,
    get_page,
    post_form,
    text_of,
)


async def sign_up_patient(client: httpx.AsyncClient) -> httpx.Response:
    return await post_form(
        client,
        "/sign-up",
        {
            "display_name": "王 芳",
            "email": unique_email("patient"),
            "password": STRONG_PASSWORD,
            "role": "patient",
        },
    )


async def test_sign_up_continues_with_details_then_the_consent(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    done = await sign_up_patient(client)
    assert done.status_code == 303 and done.headers["location"] == "/profile?signup=1"
    page = (await get_page(client, "/profile?signup=1")).text
    assert "第 1 步，共 2 步" in page
    assert field_value(page, "real_name") == "王 芳"  # the name given at sign-up

    typed = {
        "real_name": "王 芳",
        "phone": "12345",
        "date_of_birth": "2999-01-01",
        "sex": "female",
        "signup": "1",
    }
    bad = await post_form(client, "/profile", typed)
    assert bad.status_code == 422
    # The service's first complaint is named beside its field, and nothing typed is lost.
    assert error_beside(bad.text, "date_of_birth") or error_beside(bad.text, "phone")
    assert field_value(bad.text, "phone") == "12345"
    assert field_value(bad.text, "date_of_birth") == "2999-01-01"
    assert checked(bad.text, "sex", "female")

    bad_phone = await post_form(client, "/profile", typed | {"date_of_birth": "1980-02-03"})
    assert error_beside(bad_phone.text, "phone") == "错误：请输入有效的手机号码，例如 13800138000。"
    good = await post_form(
        client, "/profile", typed | {"date_of_birth": "1980-02-03", "phone": "13800138000"}
    )
    assert good.status_code == 303
    assert good.headers["location"] == "/profile/consent?signup=1"

    consent = (await get_page(client, "/profile/consent?signup=1")).text
    assert "第 2 步，共 2 步" in consent
    assert "健康信息处理知情同意书" in consent and f"版本 {CURRENT_POLICY_VERSION}" in consent
    not_ticked = await post_form(
        client,
        "/profile/consent",
        {"policy_version": CURRENT_POLICY_VERSION, "signup": "1"},
    )
    assert not_ticked.status_code == 422
    assert error_beside(not_ticked.text, "agree") == "错误：请勾选同意后再继续。"
    agreed = await post_form(
        client,
        "/profile/consent",
        {"policy_version": CURRENT_POLICY_VERSION, "agree": "yes", "signup": "1"},
    )
    assert agreed.status_code == 303 and agreed.headers["location"] == "/experts"
    mine = (await client.get("/api/patients/me")).json()
    assert mine["me"]["phone"] == "+8613800138000"
    assert mine["consent"]["policy_version"] == CURRENT_POLICY_VERSION
    # Recorded as its own step, in the audit trail.
    user_id = (await client.get("/api/me")).json()["id"]
    actions = await app.state.services.db.fetch(
        "SELECT action FROM audit_events WHERE actor_id = $1::uuid ORDER BY id", user_id
    )
    assert [a["action"] for a in actions][-2:] == ["patient.details_set", "consent.granted"]


async def test_an_outdated_policy_version_is_refused_beside_the_consent(
    client: httpx.AsyncClient,
) -> None:
    await sign_up_patient(client)
    stale = await post_form(
        client,
        "/profile/consent",
        {"policy_version": "2001-01", "agree": "yes"},
    )
    assert stale.status_code == 422
    assert "同意书已更新" in stale.text


async def test_the_policy_is_shown_in_english_and_can_be_withdrawn(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    account: Account = await sign_up("patient")
    await browser_session(client, account)
    await post_form(client, "/language", {"locale": "en", "next": "/"}, from_page="/")
    page = (await get_page(client, "/profile/consent")).text
    assert "Consent to the processing of health data" in page
    await post_form(
        client, "/profile/consent", {"policy_version": CURRENT_POLICY_VERSION, "agree": "yes"}
    )
    given = (await get_page(client, "/profile/consent")).text
    assert "You agreed to this version on" in given
    withdrawn = await post_form(
        client, "/profile/consent/withdraw", {}, from_page="/profile/consent"
    )
    assert withdrawn.headers["location"] == "/profile/consent?withdrawn=1"
    assert (await client.get("/api/patients/me")).json()["consent"] is None


async def test_family_members_are_added_and_removed(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    account: Account = await sign_up("patient")
    await browser_session(client, account)
    missing = await post_form(
        client, "/family", {"real_name": "王 小宝", "relationship": "", "date_of_birth": ""}
    )
    assert missing.status_code == 422
    assert error_beside(missing.text, "relationship") == "错误：请填写此项。"
    assert error_beside(missing.text, "date_of_birth") == "错误：请填写此项。"
    assert field_value(missing.text, "real_name") == "王 小宝"
    added = await post_form(
        client,
        "/family",
        {"real_name": "王 小宝", "relationship": "child", "date_of_birth": "2023-06-01"},
    )
    assert added.status_code == 303 and added.headers["location"] == "/family?saved=added"
    page = (await get_page(client, "/family?saved=added")).text
    assert "家庭成员已添加。" in page
    assert "王 小宝" in page and "6 岁以下" in text_of(page)
    member = (await client.get("/api/patients/me")).json()["family"][0]
    removed = await post_form(client, f"/family/{member['id']}/remove", {}, from_page="/family")
    assert removed.headers["location"] == "/family?saved=removed"
    assert (await client.get("/api/patients/me")).json()["family"] == []


async def test_someone_elses_family_member_cannot_be_removed(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    owner: Account = await sign_up("patient")
    other: Account = await sign_up("patient")
    created = await client.post(
        "/api/patients/me/family",
        headers=owner.headers,
        json={"real_name": "李 四", "relationship": "parent", "date_of_birth": "1950-01-01"},
    )
    await browser_session(client, other)
    refused = await post_form(
        client, f"/family/{created.json()['id']}/remove", {}, from_page="/family"
    )
    assert refused.status_code == 404
    assert "找不到这个页面" in refused.text
