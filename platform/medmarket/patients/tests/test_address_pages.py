"""The address book page over HTTP: a problem beside its field, an edit that keeps what was
typed, removal, and another account's entry answered as missing."""

from __future__ import annotations

import httpx

from medmarket.tests.support.fixtures import SignUp
from medmarket.tests.support.pages import browser_session, error_beside, field_value, post_form

TYPED = {
    "recipient": "王 芳",
    "phone": "138 0013 8000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "street": "文三路 90 号",
    "postal_code": "",
    "label": "家",
}


async def test_an_address_is_added_edited_and_removed(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    patient = await sign_up("patient")
    await browser_session(client, patient)
    bad = await post_form(client, "/addresses", {**TYPED, "postal_code": "3100"})
    assert bad.status_code == 422
    assert error_beside(bad.text, "postal_code") == "错误：请输入 6 位数字的邮政编码。"
    assert field_value(bad.text, "street") == "文三路 90 号"

    added = await post_form(client, "/addresses", TYPED)
    assert added.status_code == 303 and added.headers["location"] == "/addresses?saved=added"
    (address,) = (await client.get("/api/me/addresses", headers=patient.headers)).json()
    assert address["is_default"]

    edit = await client.get(f"/addresses/{address['id']}/edit")
    assert field_value(edit.text, "street") == "文三路 90 号"
    saved = await post_form(
        client,
        f"/addresses/{address['id']}",
        {**TYPED, "street": "文三路 100 号", "label": ""},
        from_page=f"/addresses/{address['id']}/edit",
    )
    assert saved.status_code == 303
    (changed,) = (await client.get("/api/me/addresses", headers=patient.headers)).json()
    assert changed["street"] == "文三路 100 号" and changed["label"] is None

    stranger = await sign_up("patient")
    await browser_session(client, stranger)
    refused = await post_form(client, f"/addresses/{address['id']}/remove", {})
    assert refused.status_code == 404

    await browser_session(client, patient)
    removed = await post_form(client, f"/addresses/{address['id']}/remove", {})
    assert removed.status_code == 303
    assert (await client.get("/api/me/addresses", headers=patient.headers)).json() == []
