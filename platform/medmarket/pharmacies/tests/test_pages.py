"""The operators' pharmacy pages over HTTP, in Chinese and English, without script: list and
register pharmacies (errors beside their fields, opening hours a line per day), edit and
close one, add and remove its pharmacists; other roles are refused; a pharmacist's account
page names their pharmacy."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx
import pytest

from medmarket.pharmacies.tests.helpers import register, unique_licence
from medmarket.tests.support.fixtures import Account, sign_up_and_in
from medmarket.tests.support.pages import (
    browser_session,
    checked,
    error_beside,
    field_value,
    get_page,
    post_form,
    text_of,
)


def form_for(**changes: str) -> dict[str, str]:
    values = {
        "name_zh": f"页面测试药房 {uuid.uuid4().hex[:6]}",
        "name_en": "Page Test Pharmacy",
        "kind": "independent",
        "hospital_id": "",
        "licence_number": unique_licence(),
        "province": "浙江省",
        "city": "杭州市",
        "district": "",
        "address": "文三路 100 号",
        "phone": "0571 8888 1234",
        **{f"hours[{day}]": "08:00-12:00，14:00-20:00" for day in range(1, 6)},
        "hours[6]": "9:00-17:00",
        "hours[7]": "",
        "reviews_prescriptions": "yes",
        "dispenses": "yes",
    }
    values.update(changes)
    return values


def h1(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert match, "the page has no h1"
    return text_of(match[1])


async def test_an_operator_registers_edits_staffs_and_closes_a_pharmacy_in_chinese(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    await browser_session(client, operator)
    page = await get_page(client, "/operator/pharmacies")
    assert page.status_code == 200
    assert h1(page.text) == "药房"
    assert 'href="/operator/pharmacies" aria-current="page"' in page.text  # the header's link
    assert checked(page.text, "kind", "independent")

    refused = await post_form(
        client,
        "/operator/pharmacies",
        form_for(name_zh="", licence_number="", **{"hours[2]": "早上八点"}),
    )
    assert refused.status_code == 422
    assert error_beside(refused.text, "name_zh") == "错误：请填写药房的中文名称。"
    assert field_value(refused.text, "hours[2]") == "早上八点"  # what was typed is kept
    hours = await post_form(client, "/operator/pharmacies", form_for(**{"hours[2]": "早上八点"}))
    assert (error_beside(hours.text, "hours[2]") or "").startswith("错误：请按 08:00-12:00")
    overlapping = await post_form(
        client, "/operator/pharmacies", form_for(**{"hours[3]": "08:00-12:00, 11:00-13:00"})
    )
    assert error_beside(overlapping.text, "hours[3]") == "错误：这一天的时段有重叠。"
    unlicensed = await post_form(client, "/operator/pharmacies", form_for(licence_number=""))
    assert (error_beside(unlicensed.text, "licence_number") or "").startswith(
        "错误：社会药房须持有"
    )
    idle = await post_form(
        client, "/operator/pharmacies", form_for(reviews_prescriptions="", dispenses="")
    )
    assert error_beside(idle.text, "dispenses") == "错误：药房至少要审方或配药：请至少勾选一项。"
    bad_phone = await post_form(client, "/operator/pharmacies", form_for(phone="12"))
    assert (error_beside(bad_phone.text, "phone") or "").startswith("错误：请输入带区号的电话号码")

    values = form_for()
    created = await post_form(client, "/operator/pharmacies", values)
    assert created.status_code == 303, created.text
    path = created.headers["location"].split("?")[0]
    page = await get_page(client, created.headers["location"])
    assert "药房已登记。" in text_of(page.text)
    assert h1(page.text) == values["name_zh"]
    assert field_value(page.text, "hours[1]") == "08:00-12:00, 14:00-20:00"
    assert field_value(page.text, "hours[6]") == "09:00-17:00"
    assert field_value(page.text, "phone") == "+8657188881234"
    assert 'name="kind"' not in page.text  # a pharmacy keeps its kind
    listed = text_of((await get_page(client, "/operator/pharmacies")).text)
    assert values["name_zh"] in listed and "社会药房" in listed

    saved = await post_form(
        client, path, {**values, "district": "西湖区", "hours[7]": "10:00-16:00"}
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
    page = await get_page(client, path)
    assert field_value(page.text, "district") == "西湖区"
    assert field_value(page.text, "hours[7]") == "10:00-16:00"

    pharmacist = await sign_up("pharmacist")
    nobody = await post_form(
        client,
        path + "/pharmacists",
        {"email": "nobody@example.org", "licence_number": ""},
        from_page=path,
    )
    assert nobody.status_code == 422
    assert (error_beside(nobody.text, "email") or "").startswith("错误：没有药师账户使用这个邮箱")
    added = await post_form(
        client,
        path + "/pharmacists",
        {"email": pharmacist.email, "licence_number": ""},
        from_page=path,
    )
    assert added.status_code == 303
    shown = text_of((await get_page(client, added.headers["location"])).text)
    assert "这位药师已加入本药房。" in shown and pharmacist.email in shown and "未登记" in shown
    ended = await post_form(client, f"{path}/pharmacists/{pharmacist.id}/end", {}, from_page=path)
    assert ended.status_code == 303
    assert pharmacist.email not in text_of((await get_page(client, path)).text)

    closed = await post_form(client, path + "/close", {}, from_page=path)
    assert closed.status_code == 303
    page = await get_page(client, closed.headers["location"])
    assert "药房已关闭" in text_of(page.text) and "已关闭" in text_of(page.text)
    assert f'action="{path}"' not in page.text  # no edit form any more
    again = await post_form(client, path + "/close", {}, from_page="/operator/pharmacies")
    assert again.status_code == 409 and "这家药房已关闭，记录不再更改。" in text_of(again.text)
    assert values["name_zh"] not in text_of((await get_page(client, "/operator/pharmacies")).text)
    shown = text_of((await get_page(client, "/operator/pharmacies?show=closed")).text)
    assert values["name_zh"] in shown


async def test_the_pharmacy_pages_in_english(client: httpx.AsyncClient, operator: Account) -> None:
    pharmacy = await register(client, operator, name_en="Lakeside Pharmacy")
    await client.patch("/api/me", json={"locale": "en"}, headers=operator.headers)
    try:
        await browser_session(client, operator)
        page = await get_page(client, "/operator/pharmacies?show=all")
        assert page.status_code == 200
        assert '<html lang="en">' in page.text
        assert h1(page.text) == "Pharmacies"
        shown = text_of(page.text)
        assert "Lakeside Pharmacy" in shown and "Register a pharmacy" in shown
        assert "Independent pharmacy" in shown and "Opening hours" in shown
        own = await get_page(client, f"/operator/pharmacies/{pharmacy['id']}")
        assert h1(own.text) == "Lakeside Pharmacy"
        assert "Close the pharmacy" in text_of(own.text) and "Monday" in text_of(own.text)
        refused = await post_form(
            client,
            f"/operator/pharmacies/{pharmacy['id']}",
            {
                "name_zh": "",
                "province": "浙江省",
                "city": "杭州市",
                "address": "x 路",
                "phone": "+8657188881234",
                "dispenses": "yes",
            },
        )
        assert refused.status_code == 422
        assert error_beside(refused.text, "name_zh") == "Error: Enter the pharmacy's Chinese name."
    finally:
        await client.patch("/api/me", json={"locale": "zh-CN"}, headers=operator.headers)


@pytest.mark.parametrize("role", ["doctor", "pharmacist", "patient", "hospital_admin"])
async def test_other_roles_do_not_see_the_operators_pages(
    client: httpx.AsyncClient, sign_up: Any, role: str
) -> None:
    account = await sign_up(role)
    await browser_session(client, account)
    page = await get_page(client, "/operator/pharmacies")
    assert page.status_code == 403
    assert "<h1" in page.text  # the error page, not problem+json


async def test_a_pharmacist_s_account_page_names_their_pharmacy(
    client: httpx.AsyncClient, operator: Account, sign_up: Any
) -> None:
    pharmacist = await sign_up("pharmacist")
    await browser_session(client, pharmacist)
    alone = text_of((await get_page(client, "/account")).text)
    assert "所在药房" in alone and "暂无：运营人员或您所在医院的管理员会把您加入药房。" in alone
    assert "处方审核工作台即将开放。" in alone
    pharmacy = await register(client, operator, name_en="Riverside Pharmacy")
    await client.post(
        f"/api/pharmacies/{pharmacy['id']}/pharmacists",
        headers=operator.headers,
        json={"email": pharmacist.email},
    )
    assert pharmacy["name_zh"] in text_of((await get_page(client, "/account")).text)
    await client.patch("/api/me", json={"locale": "en"}, headers=pharmacist.headers)
    await browser_session(client, pharmacist)  # the session's locale is read at sign-in
    english = text_of((await get_page(client, "/account")).text)
    assert "PharmacyRiverside Pharmacy" in english  # the fact and its value


async def test_an_operator_invites_a_pharmacist_into_the_pharmacy_from_its_page(
    client: httpx.AsyncClient, operator: Account
) -> None:
    pharmacy = await register(client, operator)
    path = f"/operator/pharmacies/{pharmacy['id']}"
    await browser_session(client, operator)
    refused = await post_form(client, path + "/invite", {"invite_email": "x@"}, from_page=path)
    assert refused.status_code == 422
    assert (
        error_beside(refused.text, "invite_email")
        == "错误：请输入有效的电子邮箱，例如 name@example.com。"
    )
    email = f"invited-{uuid.uuid4().hex[:8]}@example.org"
    invited = await post_form(client, path + "/invite", {"invite_email": email}, from_page=path)
    assert invited.status_code == 201
    link = re.search(r'id="invitation-link"[^>]*value="[^"]*invitation=([^"]+)"', invited.text)
    assert link, "the page shows the invitation's link"
    assert email in text_of(invited.text)
    await sign_up_and_in(client, "pharmacist", invitation=html.unescape(link[1]), email=email)
    shown = await client.get(f"/api/pharmacies/{pharmacy['id']}", headers=operator.headers)
    assert [p["email"] for p in shown.json()["pharmacists"]] == [email]
