"""The pages over HTTP, without a browser: forms that keep what was typed and name each
error, sessions, the language choice, error pages for browsers and problem+json for the API."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import httpx
import pytest
from litestar import Litestar, get

from medmarket.accounts.guards import allow
from medmarket.app import create_app
from medmarket.pages.assets import locate_web_dir
from medmarket.settings import Settings, SettingsError
from medmarket.tests.support.fixtures import (
    STRONG_PASSWORD,
    Account,
    client_for,
    running,
    unique_email,
)
from medmarket.tests.support.pages import (
    HTML,
    csrf_of,
    error_beside,
    field_value,
    form_of,
    get_page,
    post_form,
)


# -- layout and language ---------------------------------------------------------------------
async def test_home_is_chinese_by_default_with_landmarks(client: httpx.AsyncClient) -> None:
    response = await get_page(client, "/")
    assert response.status_code == 200
    page = response.text
    assert '<html lang="zh-CN">' in page
    assert "在家就能看上大医院的专家" in page
    for landmark in ("<header", "<nav", '<main id="main"', "<footer", 'class="skip-link"'):
        assert landmark in page
    assert 'action="/experts"' in page and 'role="search"' in page
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_language_switch_works_signed_out(client: httpx.AsyncClient) -> None:
    switched = await post_form(
        client, "/language", {"locale": "en", "next": "/experts?q=x"}, from_page="/"
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/experts?q=x"
    page = (await get_page(client, "/")).text
    assert '<html lang="en">' in page and "How it works" in page
    back = await post_form(client, "/language", {"locale": "zh-CN", "next": "/"})
    assert back.status_code == 303
    assert "如何使用" in (await get_page(client, "/")).text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil", ""])
async def test_language_switch_never_redirects_off_site(
    client: httpx.AsyncClient, target: str
) -> None:
    response = await post_form(client, "/language", {"locale": "en", "next": target}, from_page="/")
    assert response.headers["location"] == "/"


async def test_a_form_without_its_token_is_refused_with_a_page(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    await get_page(client, "/")
    forged = await client.post("/language", data={"locale": "en", "next": "/"}, headers=HTML)
    assert forged.status_code == 403
    assert "页面已过期" in forged.text
    assert "mm_locale" not in forged.headers.get("set-cookie", "")
    # A token made for another visitor's cookie does not work either.
    other = client_for(app)
    async with other:
        foreign = csrf_of((await get_page(other, "/")).text)
    stolen = await client.post(
        "/sign-in", data={"_csrf": foreign, "email": "a@b.cn", "password": "x"}, headers=HTML
    )
    assert stolen.status_code == 403


async def test_another_site_cannot_post_a_form_to_a_public_api_route(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    """A plain HTML form elsewhere can send text/plain that happens to be JSON ("login
    CSRF"); without our token it is refused. JSON and bearer clients are unaffected."""
    account: Account = await sign_up("patient")
    body = json.dumps({"email": account.email, "password": account.password})
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        forged = await client.post(
            "/api/session", content=body, headers={"content-type": content_type}
        )
        assert forged.status_code == 403, content_type
        assert "mm_session" not in forged.headers.get("set-cookie", "")
    genuine = await client.post(
        "/api/session", content=body, headers={"content-type": "application/json"}
    )
    assert genuine.status_code == 201
    bearer = await client.post(
        "/api/tokens",
        content=body,
        headers={"content-type": "text/plain", "Authorization": f"Bearer {account.token}"},
    )
    assert bearer.status_code == 201


# -- sign-up ---------------------------------------------------------------------------------
async def test_sign_up_error_keeps_what_was_typed_and_names_the_field(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email("doctor")
    typed = {"display_name": "李 医生", "email": email, "password": "short", "role": "doctor"}
    response = await post_form(client, "/sign-up", typed)
    assert response.status_code == 422
    page = response.text
    assert field_value(page, "display_name") == "李 医生"
    assert field_value(page, "email") == email
    assert field_value(page, "password") == "short"
    assert re.search(r'value="doctor" checked', page)
    assert error_beside(page, "password") == (
        "错误：密码太弱：请至少使用 10 个字符，不要使用常见密码，也不要用邮箱名。"
    )
    assert error_beside(page, "email") is None
    assert (
        'aria-invalid="true"' in page
        and 'aria-describedby="f-password-hint f-password-error"' in page
    )
    assert "<title>错误：" in page


async def test_sign_up_reports_every_bad_field_at_once(client: httpx.AsyncClient) -> None:
    page = (
        await post_form(
            client,
            "/sign-up",
            {"display_name": " ", "email": "nope", "password": "x", "role": "patient"},
        )
    ).text
    assert error_beside(page, "display_name") == "错误：请填写此项。"
    assert error_beside(page, "email") == "错误：请输入有效的电子邮箱，例如 name@example.com。"
    assert error_beside(page, "password") is not None
    assert 'href="#f-display_name"' in page  # the summary links to each field


async def test_a_tampered_role_is_an_error_beside_the_role(client: httpx.AsyncClient) -> None:
    response = await post_form(
        client,
        "/sign-up",
        {
            "display_name": "X",
            "email": unique_email(),
            "password": STRONG_PASSWORD,
            "role": "operator",
        },
    )
    assert response.status_code == 422
    assert '<p class="field-error" id="f-role-error">' in response.text


async def test_sign_up_then_account_page_in_english(client: httpx.AsyncClient) -> None:
    await post_form(client, "/language", {"locale": "en", "next": "/"}, from_page="/")
    email = unique_email("patient")
    done = await post_form(
        client,
        "/sign-up",
        {
            "display_name": "Wang Fang",
            "email": email,
            "password": STRONG_PASSWORD,
            "role": "patient",
        },
    )
    assert done.status_code == 303, done.text
    # A patient goes on to the real-name details (patients/pages.py); the account is there.
    assert done.headers["location"] == "/profile?signup=1"
    assert "Step 1 of 2" in (await get_page(client, done.headers["location"])).text
    cookies = done.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("mm_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    account = await get_page(client, "/account?welcome=1")
    assert account.status_code == 200
    assert "Welcome to MedMarket, Wang Fang!" in account.text
    assert email in account.text and "Patient" in account.text
    me = await client.get("/api/me")
    assert me.json()["locale"] == "en"  # the language they signed up in is saved


async def test_a_taken_address_leads_to_sign_in_without_saying_it_is_taken(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    """Someone who forgot they have an account (or anyone trying an address) is sent to
    sign in, told that the account, if any, has had a message; nothing says "taken"."""
    existing: Account = await sign_up("patient")
    response = await post_form(
        client,
        "/sign-up",
        {
            "display_name": "Again",
            "email": existing.email,
            "password": "not-the-owners-pass-1",
            "role": "patient",
        },
    )
    assert response.status_code == 200
    assert 'action="/sign-in"' in response.text
    assert field_value(form_of(response.text, "/sign-in"), "email") == existing.email
    assert "我们已经给这个账户发了一条消息" in response.text
    assert 'href="/forgot-password"' in response.text
    assert "mm_session" not in response.headers.get("set-cookie", "")
    # The owner who typed their own password is simply signed in.
    again = await post_form(
        client,
        "/sign-up",
        {
            "display_name": "Again",
            "email": existing.email,
            "password": existing.password,
            "role": "patient",
        },
    )
    assert again.status_code == 303
    assert (await client.get("/api/me")).json()["email"] == existing.email


async def test_staff_join_through_their_invitation(
    client: httpx.AsyncClient, operator: Account
) -> None:
    email = unique_email("pharmacist")
    invited = await client.post(
        "/api/invitations", headers=operator.headers, json={"email": email, "role": "pharmacist"}
    )
    token = invited.json()["token"]
    page = (await get_page(client, f"/sign-up?invitation={token}")).text
    assert "您受邀以“药师”身份加入医联市场。" in page
    assert field_value(page, "email") == email
    assert 'name="role"' not in page  # the invitation fixes the role
    done = await client.post(
        "/sign-up",
        headers=HTML,
        data={
            "_csrf": csrf_of(page),
            "invitation": token,
            "display_name": "药师 王",
            "email": email,
            "password": STRONG_PASSWORD,
        },
    )
    assert done.status_code == 303, done.text
    assert (await client.get("/api/me")).json()["role"] == "pharmacist"


async def test_a_broken_invitation_says_so_and_offers_no_form(client: httpx.AsyncClient) -> None:
    page = (await get_page(client, "/sign-up?invitation=not-a-real-token")).text
    assert "这个邀请链接无效、已使用或已过期" in page
    assert 'action="/sign-up"' not in page


# -- sign-in, sign-out -------------------------------------------------------------------------
async def test_sign_in_wrong_password_keeps_the_address(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    account: Account = await sign_up("doctor")
    response = await post_form(
        client, "/sign-in", {"email": account.email, "password": "wrong-one-1"}
    )
    assert response.status_code == 401
    assert "电子邮箱或密码不正确。" in response.text
    assert field_value(response.text, "email") == account.email
    assert field_value(response.text, "password") == ""


async def test_sign_in_with_empty_fields_names_them(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/sign-in", {"email": "", "password": ""})
    assert response.status_code == 422
    assert error_beside(response.text, "email") == "错误：请填写此项。"
    assert error_beside(response.text, "password") == "错误：请填写此项。"


async def test_sign_in_returns_to_the_page_asked_for_and_sign_out_ends_it(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    account: Account = await sign_up("patient")
    bounced = await get_page(client, "/account")
    assert bounced.status_code == 303
    assert bounced.headers["location"] == "/sign-in?next=%2Faccount"
    form = (await get_page(client, bounced.headers["location"])).text
    assert field_value(form_of(form, "/sign-in"), "next") == "/account"
    signed_in = await client.post(
        "/sign-in",
        headers=HTML,
        data={
            "_csrf": csrf_of(form),
            "email": account.email,
            "password": account.password,
            "next": "/account",
        },
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account"
    page = (await get_page(client, "/account")).text
    out = await client.post("/sign-out", data={"_csrf": csrf_of(page)}, headers=HTML)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert (await client.get("/api/me")).status_code == 401


async def test_sign_out_needs_the_session_token(client: httpx.AsyncClient, sign_up: Any) -> None:
    account: Account = await sign_up("patient")
    await post_form(client, "/sign-in", {"email": account.email, "password": account.password})
    refused = await client.post("/sign-out", data={}, headers=HTML)
    assert refused.status_code == 403
    assert (await client.get("/api/me")).status_code == 200


async def test_signing_in_as_someone_else_ends_the_first_session(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    first: Account = await sign_up("patient")
    second: Account = await sign_up("doctor")
    await post_form(client, "/sign-in", {"email": first.email, "password": first.password})
    old = client.cookies["mm_session"]
    await post_form(client, "/sign-in", {"email": second.email, "password": second.password})
    assert (await client.get("/api/me")).json()["email"] == second.email
    stale = await client.get("/api/me", headers={"Authorization": f"Bearer {old}"})
    assert stale.status_code == 401


# -- my account --------------------------------------------------------------------------------
async def test_saved_locale_follows_the_person_and_preferences_save(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    account: Account = await sign_up("patient")
    await post_form(client, "/sign-in", {"email": account.email, "password": account.password})
    bad = await post_form(
        client,
        "/account/preferences",
        {"locale": "en", "time_zone": "Mars/Base"},
        from_page="/account",
    )
    assert bad.status_code == 422
    assert field_value(bad.text, "time_zone") == "Mars/Base"
    assert error_beside(bad.text, "time_zone") == (
        "错误：无法识别这个时区，请输入类似 Asia/Shanghai 的时区名称。"
    )
    good = await post_form(
        client,
        "/account/preferences",
        {"locale": "en", "time_zone": "Europe/Berlin"},
        from_page="/account",
    )
    assert good.status_code == 303 and good.headers["location"] == "/account?saved=1"
    page = (await get_page(client, "/account?saved=1")).text
    assert "Your settings are saved." in page and "Central European" in page
    # A signed-in person's saved language wins over this browser's cookie.
    client.cookies.set("mm_locale", "zh-CN")
    assert '<html lang="en">' in (await get_page(client, "/account")).text


async def test_language_switch_signed_in_is_saved_with_the_account(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    account: Account = await sign_up("doctor")
    await post_form(client, "/sign-in", {"email": account.email, "password": account.password})
    switched = await post_form(
        client, "/language", {"locale": "en", "next": "/account"}, from_page="/account"
    )
    assert switched.status_code == 303
    assert (await client.get("/api/me")).json()["locale"] == "en"


# -- errors ------------------------------------------------------------------------------------
async def test_unknown_page_is_an_html_404_for_browsers_and_problem_json_otherwise(
    client: httpx.AsyncClient,
) -> None:
    page = await get_page(client, "/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "找不到这个页面" in page.text
    machine = await client.get("/no-such-page")
    assert machine.headers["content-type"] == "application/problem+json"
    api = await client.get("/api/no-such-thing", headers=HTML)
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


async def test_a_page_someone_may_not_open_is_an_html_403(settings: Settings, sign_up: Any) -> None:
    @get("/operators-only", opt=allow("operator"))
    async def operators_only() -> str:
        return "operators' secret"

    application = create_app(settings)
    application.register(operators_only)
    async with running(application), client_for(application) as http:
        await post_form(
            http,
            "/sign-up",
            {
                "display_name": "P",
                "email": unique_email(),
                "password": STRONG_PASSWORD,
                "role": "patient",
            },
        )
        page = await get_page(http, "/operators-only")
        api_style = await http.get("/operators-only")
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "无权访问" in page.text and "operators' secret" not in page.text
    assert api_style.headers["content-type"] == "application/problem+json"


def test_the_web_folder_is_found_from_the_checkout_and_by_setting(tmp_path: Any) -> None:
    found = locate_web_dir("")
    assert (found / "templates" / "base.html").is_file()
    assert locate_web_dir(str(found)) == found
    with pytest.raises(SettingsError, match="MEDMARKET_WEB_DIR"):
        locate_web_dir(str(tmp_path))


async def test_a_configured_web_folder_is_used(settings: Settings, tmp_path: Any) -> None:
    copy = tmp_path / "web"
    shutil.copytree(locate_web_dir(""), copy)
    (copy / "templates" / "experts.html").write_text(
        '{% extends "base.html" %}{% block main %}<p>from the configured folder</p>{% endblock %}'
    )
    custom = create_app(Settings(**{**_fields(settings), "web_dir": str(copy)}))
    async with running(custom), client_for(custom) as http:
        page = await get_page(http, "/experts")
    assert "from the configured folder" in page.text


def _fields(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__struct_fields__}


async def test_static_files_are_served_with_a_version_and_caching(
    client: httpx.AsyncClient,
) -> None:
    page = (await get_page(client, "/")).text
    stylesheet = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{10})"', page)
    assert stylesheet
    response = await client.get(stylesheet[1])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "max-age=86400" in response.headers["cache-control"]
    missing = await client.get("/static/nope.css", headers=HTML)
    assert missing.status_code == 404
    escape = await client.get("/static/../../pyproject.toml")
    assert escape.status_code == 404
