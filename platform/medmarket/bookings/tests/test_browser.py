"""A patient's journey in real Chromium: sign up with the real-name details and the
separate consent, find an expert, book a time citing the earlier diagnosis, pay with the
gateway's own script (localstripe's Stripe.js stand-in), 3-D Secure and a declined card."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from litestar import Litestar
from playwright.async_api import Page, expect

from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.browser_steps import (
    DECLINED_CARD,
    THREE_D_SECURE_CARD,
    cite_diagnosis,
    fill_card,
)
from medmarket.tests.support.fixtures import STRONG_PASSWORD, client_for, unique_email
from medmarket.tests.support.seed import approved_doctor, free_slots, pay, ready_patient

pytestmark = pytest.mark.browser


async def test_a_patient_signs_up_finds_an_expert_books_and_pays_on_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    specialty = "高血压" + uuid.uuid4().hex[:4]
    doctor = await approved_doctor(app, full_name="周建国", specialties=(specialty,))
    page = await new_page(width=375)
    await page.goto(live_server.url + "/sign-up")
    await page.get_by_label("姓名").fill("吴 小芳")
    await page.get_by_label("电子邮箱").fill(unique_email("patient"))
    await page.locator("#f-password").fill(STRONG_PASSWORD)
    await page.get_by_role("button", name="创建账户").click()

    await expect(page.get_by_text("第 1 步，共 2 步")).to_be_visible()
    await expect(page.get_by_label("真实姓名")).to_have_value("吴 小芳")
    await page.get_by_label("手机号码").fill("123")
    await page.get_by_label("出生日期").fill("1975-03-08")
    await page.get_by_role("button", name="保存并继续").click()
    await expect(page.locator('[data-field="phone"] .field-error')).to_contain_text("手机号码")
    await expect(page.get_by_label("出生日期")).to_have_value("1975-03-08")  # kept
    await page.get_by_label("手机号码").fill("13900139000")
    await page.get_by_role("button", name="保存并继续").click()

    await expect(page.get_by_text("第 2 步，共 2 步")).to_be_visible()
    await expect(
        page.get_by_role("heading", name=re.compile("健康信息处理知情同意书"))
    ).to_be_visible()
    await at_widths(page, "consent")
    await page.get_by_label("我已阅读并同意上述健康信息处理知情同意书").check()
    await page.get_by_role("button", name="同意", exact=True).click()

    await expect(page).to_have_url(re.compile(r"/experts$"))
    await page.get_by_text("更多筛选条件").click()
    await page.get_by_label("擅长领域").select_option(specialty)
    await page.get_by_role("button", name="筛选").click()
    await expect(page.get_by_role("heading", name="周建国")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "experts")
    await page.get_by_role("link", name="查看 周建国 并预约").click()

    await expect(page.get_by_role("heading", level=1)).to_contain_text("周建国")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "doctor")
    await page.locator("a.slot").first.click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("预约复诊")
    await expect(page.get_by_label(re.compile("吴 小芳"))).to_be_checked()
    await page.get_by_role("button", name="保留时间并去支付").click()
    await expect(page.get_by_role("alert").first).to_contain_text("请修改以下内容")
    await cite_diagnosis(page)
    await at_widths(page, "book")
    await page.get_by_role("button", name="保留时间并去支付").click()

    await expect(page).to_have_url(re.compile(r"/visits/[0-9a-f-]{36}/pay$"))
    await expect(page.locator("[data-countdown]")).to_contain_text("保留时间还剩")
    await fill_card(page, "4242424242424242")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "pay")
    await page.get_by_role("button", name="支付 ¥50.00").click()

    await expect(page).to_have_url(re.compile(r"/visits/[0-9a-f-]{36}\?done=paid$"))
    await expect(page.get_by_role("status").first).to_contain_text("支付成功，预约已确认")
    await expect(page.locator(".badge", has_text="已确认")).to_be_visible()
    await at_widths(page, "visit")
    booking_id = page.url.split("/visits/")[1].split("?")[0]
    status = await app.state.services.db.fetchval(
        "SELECT status FROM bookings WHERE id = $1", uuid.UUID(booking_id)
    )
    assert status == "confirmed"
    assert doctor.id


async def test_a_declined_card_then_3d_secure(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    doctor = await approved_doctor(app, price_fen=6600)
    patient = await ready_patient(app)
    page = await new_page()
    await live_server.sign_in(page.context, patient.account)
    await page.goto(f"{live_server.url}/doctors/{doctor.id}")
    await page.locator("a.slot").nth(2).click()
    await cite_diagnosis(page)
    await page.get_by_role("button", name="保留时间并去支付").click()
    await expect(page).to_have_url(re.compile(r"/pay$"))

    await fill_card(page, DECLINED_CARD)
    await page.get_by_role("button", name="支付 ¥66.00").click()
    error = page.locator("[data-pay-error]")
    await expect(error).to_contain_text("支付未成功，没有扣款")
    await at_widths(page, "pay-declined")

    await fill_card(page, THREE_D_SECURE_CARD)
    await page.get_by_role("button", name="支付 ¥66.00").click()
    # localstripe's stand-in for the bank's 3-D Secure window.
    await page.get_by_role("button", name="Complete authentication").click()
    await expect(page).to_have_url(re.compile(r"\?done=paid$"), timeout=20_000)
    await expect(page.locator(".badge", has_text="已确认")).to_be_visible()
    payments = await app.state.services.db.fetch(
        "SELECT status FROM payments WHERE payer_id = $1::uuid ORDER BY created_at",
        patient.account.id,
    )
    assert [p["status"] for p in payments] == ["failed", "succeeded"]


async def tab_to(page: Page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element has the focus (keyboard only, as a person would)."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


async def test_booking_with_the_keyboard_only(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    doctor = await approved_doctor(app)
    patient = await ready_patient(app)
    page = await new_page()
    await live_server.sign_in(page.context, patient.account)
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[0]["id"]
    await page.goto(f"{live_server.url}/book/{slot}")
    await tab_to(page, "f-institution")
    await page.keyboard.type("临安区人民医院")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("诊断日期")).to_be_focused()
    await page.keyboard.type("01102026")  # the date box takes month, day and year in turn
    await expect(page.get_by_label("诊断日期")).to_have_value("2026-01-10")
    await tab_to(page, "f-diagnosis", limit=5)  # past the date box's own parts
    await page.keyboard.type("原发性高血压")
    submit = page.get_by_role("button", name="保留时间并去支付")
    for _ in range(5):
        await page.keyboard.press("Tab")
        if await submit.evaluate("button => button === document.activeElement"):
            break
    await expect(submit).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/pay$"))


async def test_family_visits_and_cancelling_on_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    doctor = await approved_doctor(app, full_name="钱 学明", publish_days=4)
    patient = await ready_patient(app)
    page = await new_page(width=375)
    await live_server.sign_in(page.context, patient.account)
    await page.goto(live_server.url + "/family")
    await page.get_by_label("真实姓名").fill("王 小宝")
    await page.get_by_label("与您的关系").select_option("child")
    await page.get_by_label("出生日期").fill("2022-05-01")
    await page.get_by_role("button", name="添加").click()
    await expect(page.get_by_role("status").first).to_contain_text("家庭成员已添加")
    await expect(page.get_by_text("6 岁以下，问诊时需监护人陪同")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "family")

    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id, dt.timedelta(hours=30)))[0]["id"]
    await page.goto(f"{live_server.url}/book/{slot}")
    await page.get_by_label(re.compile("王 小宝")).check()
    await cite_diagnosis(page)
    await page.get_by_role("button", name="保留时间并去支付").click()
    await expect(page).to_have_url(re.compile(r"/pay$"))
    booking_id = page.url.split("/visits/")[1].split("/")[0]
    await pay(app, patient, booking_id)

    await page.goto(live_server.url + "/visits")
    await expect(page.get_by_text("就诊人：王 小宝")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "visits")
    await page.get_by_role("link", name="钱 学明").first.click()
    await page.get_by_role("link", name="取消预约").click()
    await expect(page.get_by_text("取消后将退还 ¥50.00（诊费的 100%）。")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "cancel")
    await page.get_by_role("button", name="确认取消").click()
    await expect(page.get_by_role("status").first).to_contain_text("将退还 ¥50.00（100%）")
