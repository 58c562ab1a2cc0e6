"""The pages in real Chromium, served for real by uvicorn: what a person on a phone or a
keyboard actually gets. Screenshots land in tests/screenshots/ (not committed)."""

from __future__ import annotations

import asyncio
import re

import pytest
from litestar import Litestar
from playwright.async_api import Page, Route, expect

from medmarket.accounts.tests.sent import reset_link
from medmarket.tests.support.browser import (
    LiveServer,
    NewPage,
    at_widths,
    horizontal_overflow,
)
from medmarket.tests.support.fixtures import STRONG_PASSWORD, unique_email

pytestmark = pytest.mark.browser


async def fill_sign_up(page: Page, name: str, email: str, password: str) -> None:
    await page.get_by_label("姓名").fill(name)
    await page.get_by_label("电子邮箱").fill(email)
    await page.locator("#f-password").fill(password)


async def test_sign_up_keeps_what_was_typed_and_shows_the_error_beside_the_field(
    live_server: LiveServer, new_page: NewPage
) -> None:
    page = await new_page(width=375)
    await page.goto(live_server.url + "/sign-up")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await page.get_by_label("医生").check()
    email = unique_email("doctor")
    await fill_sign_up(page, "李 医生", email, "short")
    await page.get_by_role("button", name="创建账户").click()

    password_field = page.locator('[data-field="password"]')
    await expect(password_field.locator(".field-error")).to_contain_text("密码太弱")
    await expect(page.locator("#f-password")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#f-password")).to_be_focused()  # the first field to fix
    await expect(page.get_by_role("alert")).to_contain_text("请修改以下内容")
    # Nothing typed is lost: name, address, password and the chosen role are all still there.
    await expect(page.get_by_label("姓名")).to_have_value("李 医生")
    await expect(page.get_by_label("电子邮箱")).to_have_value(email)
    await expect(page.locator("#f-password")).to_have_value("short")
    await expect(page.get_by_label("医生")).to_be_checked()
    # The error is announced with the field: it is part of the input's description.
    described = await page.locator("#f-password").get_attribute("aria-describedby")
    assert described is not None and "f-password-error" in described.split()
    await at_widths(page, "sign-up-error")

    await page.get_by_role("button", name="显示密码").click()
    await expect(page.locator("#f-password")).to_have_attribute("type", "text")
    await page.locator("#f-password").fill(STRONG_PASSWORD)
    await page.get_by_role("button", name="创建账户").click()
    await expect(page).to_have_url(re.compile(r"/account\?welcome=1$"))
    await expect(page.get_by_role("status").first).to_contain_text("欢迎加入医联市场，李 医生！")
    await expect(page.locator("dd", has_text=email)).to_be_visible()
    await expect(page.locator("dd").get_by_text("医生", exact=True)).to_be_visible()
    await at_widths(page, "account")


async def test_sign_in_and_sign_out(live_server: LiveServer, new_page: NewPage) -> None:
    account = await live_server.sign_up("patient", display_name="王小明")
    page = await new_page()
    await page.goto(live_server.url + "/account")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Faccount$"))
    await page.get_by_label("电子邮箱").fill(account.email)
    await page.locator("#f-password").fill("not-the-password")
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("电子邮箱或密码不正确。")
    await expect(page.get_by_label("电子邮箱")).to_have_value(account.email)
    await at_widths(page, "sign-in-error")
    await page.locator("#f-password").fill(account.password)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(live_server.url + "/account")
    await expect(page.locator("dd", has_text="王小明")).to_be_visible()
    await page.get_by_role("button", name="退出登录").click()
    await expect(page).to_have_url(live_server.url + "/")
    await expect(page.get_by_role("link", name="登录")).to_be_visible()


async def test_language_switch_changes_the_page_text(
    live_server: LiveServer, new_page: NewPage
) -> None:
    page = await new_page(width=375)
    await page.goto(live_server.url + "/experts?q=心内科")
    await expect(page.get_by_role("heading", level=1)).to_have_text("找专家")
    await page.get_by_role("button", name="切换语言：English").click()
    await expect(page).to_have_url(live_server.url + "/experts?q=%E5%BF%83%E5%86%85%E7%A7%91")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Find an expert")
    await expect(page.get_by_label("Search doctors, departments or hospitals")).to_have_value(
        "心内科"
    )
    # The choice sticks for the next page (a cookie), and can be switched back.
    await page.get_by_role("link", name="Sign up").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign up")
    await at_widths(page, "sign-up-en")
    await page.get_by_role("button", name="Switch language: 中文").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("注册")


async def test_a_signed_in_persons_language_is_saved_with_the_account(
    live_server: LiveServer, new_page: NewPage
) -> None:
    account = await live_server.sign_up("doctor")
    page = await new_page()
    await live_server.sign_in(page.context, account)
    await page.goto(live_server.url + "/account")
    await page.get_by_role("button", name="切换语言：English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    # Another browser (no cookie of its own yet) gets English once this person signs in.
    elsewhere = await new_page(width=375)
    await elsewhere.goto(live_server.url + "/sign-in")
    await elsewhere.get_by_label("电子邮箱").fill(account.email)
    await elsewhere.locator("#f-password").fill(account.password)
    await elsewhere.get_by_role("button", name="登录", exact=True).click()
    await expect(elsewhere.get_by_role("heading", level=1)).to_have_text("My account")


async def test_keyboard_only_sign_in(live_server: LiveServer, new_page: NewPage) -> None:
    account = await live_server.sign_up("patient")
    page = await new_page()
    await page.goto(live_server.url + "/sign-in")
    # The first Tab reaches the skip link, which is shown when focused and skips the header.
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("电子邮箱")).to_be_focused()
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    await page.keyboard.type(account.email)
    await page.keyboard.press("Tab")
    await expect(page.locator("#f-password")).to_be_focused()
    await page.keyboard.type(account.password)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(live_server.url + "/account")
    await expect(page.get_by_role("heading", level=1)).to_have_text("我的账户")


async def test_long_work_shows_progress_and_is_not_sent_twice(
    live_server: LiveServer, new_page: NewPage
) -> None:
    page = await new_page(width=375)
    await page.goto(live_server.url + "/sign-up")
    released = asyncio.Event()
    posts: list[str] = []
    busy: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()

    async def slow_server(route: Route) -> None:
        posts.append(route.request.method)
        await released.wait()
        await route.continue_()

    def report(state: dict[str, object]) -> None:
        if not busy.done():
            busy.set_result(state)

    await page.route("**/sign-up", slow_server)
    # While the form is submitting, the test cannot ask the page anything (Playwright waits
    # for the navigation), so the page reports its own state the moment it turns busy.
    await page.expose_function("reportBusy", report)
    try:
        await fill_sign_up(page, "赵 六", unique_email(), STRONG_PASSWORD)
        await page.evaluate(
            """() => {
                const button = document.querySelector("form[data-progress] button[type=submit]");
                new MutationObserver(() => {
                    if (button.getAttribute("aria-disabled") !== "true") return;
                    const spinner = getComputedStyle(button.querySelector(".spinner"));
                    const state = {
                        label: button.textContent.trim(),
                        spinning: spinner.display !== "none",
                        busy: button.form.hasAttribute("aria-busy"),
                        announced: document.querySelector("[data-live-region]").textContent,
                    };
                    button.click();  // an impatient second tap
                    window.reportBusy(state);
                }).observe(button, {attributes: true, attributeFilter: ["aria-disabled"]});
                button.click();
            }"""
        )
        state = await asyncio.wait_for(busy, timeout=10)
        assert state == {
            "label": "正在创建账户…",
            "spinning": True,
            "busy": True,
            "announced": "正在创建账户…",
        }
        released.set()
        await expect(page).to_have_url(re.compile(r"/profile\?signup=1$"))
    finally:
        released.set()  # never leave the browser holding a request
    assert posts == ["POST"]


@pytest.mark.parametrize("path", ["/", "/sign-up", "/sign-in", "/experts", "/no-such-page"])
async def test_pages_fit_a_375px_phone_without_sideways_scrolling(
    live_server: LiveServer, new_page: NewPage, path: str
) -> None:
    page = await new_page(width=375)
    response = await page.goto(live_server.url + path)
    assert response is not None
    assert await horizontal_overflow(page) == 0
    # Tap targets of the header are at least 44 px tall.
    for box in await page.locator(".site-header a, .site-header button").all():
        bounds = await box.bounding_box()
        assert bounds is not None and bounds["height"] >= 44, await box.text_content()
    name = path.strip("/").replace("/", "-") or "home"
    await at_widths(page, name)


async def test_signed_in_account_page_fits_a_phone(
    live_server: LiveServer, new_page: NewPage
) -> None:
    account = await live_server.sign_up("patient", display_name="Zhang Wei-Long Extraordinarily")
    page = await new_page(width=375)
    await live_server.sign_in(page.context, account)
    await page.goto(live_server.url + "/account")
    assert await horizontal_overflow(page) == 0


async def test_apply_problem_puts_api_errors_beside_their_fields(
    live_server: LiveServer, new_page: NewPage
) -> None:
    """The helper later script-driven pages use with JSON APIs (static/js/forms.js)."""
    account = await live_server.sign_up("patient")
    page = await new_page()
    await live_server.sign_in(page.context, account)
    await page.goto(live_server.url + "/account")
    unplaced = await page.evaluate(
        """async () => {
            const { applyProblem } = await import("/static/js/forms.js");
            const csrf = document.querySelector("input[name=_csrf]").value;
            const answer = await fetch("/api/me", {
                method: "PATCH",
                headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                body: JSON.stringify({time_zone: "Mars/Base"}),
            });
            const problem = await answer.json();
            const form = document.querySelector("form[action='/account/preferences']");
            return applyProblem(form, problem, {"unknown-time-zone": "无法识别这个时区"});
        }"""
    )
    assert unplaced == []
    field = page.locator('[data-field="time_zone"]')
    await expect(field.locator(".field-error")).to_have_text("无法识别这个时区")
    await expect(page.get_by_label("时区", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("时区", exact=True)).to_be_focused()


async def test_forgetting_the_password_on_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    account = await live_server.sign_up("patient", display_name="王 芳")
    page = await new_page(width=375)
    await page.goto(live_server.url + "/sign-in")
    await page.get_by_role("link", name="忘记密码？").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("找回密码")
    await page.get_by_label("电子邮箱").fill(account.email)
    await page.get_by_role("button", name="发送链接").click()
    await expect(page.get_by_role("status").first).to_contain_text("链接 30 分钟内有效")
    await at_widths(page, "forgot-password-sent")

    # The link arrives by e-mail or SMS; the notifier would deliver this one.
    await page.goto(await reset_link(app, account.id))
    await expect(page.get_by_role("heading", level=1)).to_have_text("设置新密码")
    await page.get_by_label("新密码").fill("short")
    await page.get_by_role("button", name="保存新密码").click()
    await expect(page.locator('[data-field="password"] .field-error')).to_contain_text("密码太弱")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "reset-password-error")
    await page.get_by_label("新密码").fill("plum-kettle-meadow-93")
    await page.get_by_role("button", name="保存新密码").click()
    await expect(page).to_have_url(re.compile(r"/sign-in\?reset=1$"))
    await expect(page.get_by_role("status").first).to_contain_text("密码已修改")
    await page.get_by_label("电子邮箱").fill(account.email)
    await page.locator("#f-password").fill("plum-kettle-meadow-93")
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(live_server.url + "/account")
