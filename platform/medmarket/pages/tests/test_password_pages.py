"""Forgetting a password, through the pages and without JavaScript: the link on the sign-in
page, asking for a reset link, choosing the new password, signing in with it."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar

from medmarket.accounts.tests.sent import reset_token
from medmarket.tests.support.fixtures import Account
from medmarket.tests.support.pages import (
    HTML,
    csrf_of,
    error_beside,
    field_value,
    form_of,
    get_page,
    post_form,
)

NEW_PASSWORD = "plum-kettle-meadow-93"


async def test_the_sign_in_page_offers_a_way_back_in(client: httpx.AsyncClient) -> None:
    page = (await get_page(client, "/sign-in")).text
    assert '<a href="/forgot-password">忘记密码？</a>' in page
    asking = await get_page(client, "/forgot-password")
    assert asking.status_code == 200
    assert "<h1>找回密码</h1>" in asking.text
    assert "30 分钟内有效" in asking.text
    assert 'action="/forgot-password"' in asking.text


async def test_asking_names_a_bad_address_and_keeps_it(client: httpx.AsyncClient) -> None:
    empty = await post_form(client, "/forgot-password", {"email": " "})
    assert empty.status_code == 422
    assert error_beside(empty.text, "email") == "错误：请填写此项。"
    bad = await post_form(client, "/forgot-password", {"email": "wang@"})
    assert bad.status_code == 422
    assert error_beside(bad.text, "email") == "错误：请输入有效的电子邮箱，例如 name@example.com。"
    assert field_value(bad.text, "email") == "wang@"


async def test_asking_says_the_same_for_any_address(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    owner: Account = await sign_up("patient")
    answers = [
        await post_form(client, "/forgot-password", {"email": email})
        for email in (owner.email, "nobody-here@example.org")
    ]
    assert [a.status_code for a in answers] == [303, 303]
    assert {a.headers["location"] for a in answers} == {"/forgot-password?sent=1"}
    sent = (await get_page(client, "/forgot-password?sent=1")).text
    assert "如果这个电子邮箱注册过医联市场，我们已经给它发送了设置新密码的链接。" in sent
    assert 'action="/forgot-password"' not in sent


async def test_the_link_leads_to_a_new_password_and_a_fresh_sign_in(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    owner: Account = await sign_up("patient")
    await post_form(client, "/sign-in", {"email": owner.email, "password": owner.password})
    assert (await client.get("/api/me")).status_code == 200
    await post_form(client, "/forgot-password", {"email": owner.email}, from_page="/account")
    token = await reset_token(app, owner.id)

    opened = await get_page(client, f"/reset-password?token={token}")
    assert opened.status_code == 200
    assert opened.headers["referrer-policy"] == "no-referrer"  # the token stays here
    form = form_of(opened.text, "/reset-password")
    assert field_value(form, "token") == token
    assert 'autocomplete="new-password"' in form

    weak = await client.post(
        "/reset-password",
        headers=HTML,
        data={"_csrf": csrf_of(opened.text), "token": token, "password": "short"},
    )
    assert weak.status_code == 422
    assert error_beside(weak.text, "password") == (
        "错误：密码太弱：请至少使用 10 个字符，不要使用常见密码，也不要用邮箱名。"
    )
    assert field_value(weak.text, "token") == token

    done = await client.post(
        "/reset-password",
        headers=HTML,
        data={"_csrf": csrf_of(weak.text), "token": token, "password": NEW_PASSWORD},
    )
    assert done.status_code == 303 and done.headers["location"] == "/sign-in?reset=1"
    assert any(c.startswith("mm_device=") for c in done.headers.get_list("set-cookie"))
    assert (await client.get("/api/me")).status_code == 401  # this session ended too
    notice = (await get_page(client, "/sign-in?reset=1")).text
    assert "密码已修改，请用新密码登录。" in notice

    signed_in = await post_form(
        client, "/sign-in", {"email": owner.email, "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 303
    assert (await client.get("/api/me")).json()["email"] == owner.email

    used = await get_page(client, f"/reset-password?token={token}")
    assert "这个链接无效、已使用或已过期" in used.text
    assert 'action="/reset-password"' not in used.text
    assert 'href="/forgot-password"' in used.text


async def test_a_link_that_stops_working_while_open_says_so(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    owner: Account = await sign_up("patient")
    await post_form(client, "/forgot-password", {"email": owner.email})
    token = await reset_token(app, owner.id)
    opened = await get_page(client, f"/reset-password?token={token}")
    async with httpx.AsyncClient(
        transport=client._transport,
        base_url=str(client.base_url),
    ) as other_tab:
        first = await other_tab.post(
            "/api/password-resets/confirm", json={"token": token, "password": NEW_PASSWORD}
        )
        assert first.status_code == 204
    late = await client.post(
        "/reset-password",
        headers=HTML,
        data={"_csrf": csrf_of(opened.text), "token": token, "password": "other-new-pass-77"},
    )
    assert late.status_code == 422
    assert "这个链接无效、已使用或已过期" in late.text
    assert 'action="/reset-password"' not in late.text


async def test_the_pages_in_english(client: httpx.AsyncClient) -> None:
    await post_form(client, "/language", {"locale": "en", "next": "/"}, from_page="/")
    asking = (await get_page(client, "/forgot-password")).text
    assert "<h1>Reset your password</h1>" in asking
    broken = (await get_page(client, "/reset-password?token=made-up")).text
    assert "This link is unknown, used or expired. Ask for a new one." in broken
    assert "Forgot your password?" in (await get_page(client, "/sign-in")).text
