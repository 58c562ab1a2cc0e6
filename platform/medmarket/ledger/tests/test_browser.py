"""Settlement statements in real Chromium at phone width: a doctor finds theirs in the
navigation and moves between months; a hospital admin opens the hospital's from its page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.ledger.tests.helpers import visits_this_month
from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.fixtures import Account

pytestmark = pytest.mark.browser


async def test_statements_on_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage, operator: Account
) -> None:
    month = await visits_this_month(app, operator)
    page = await new_page(width=375)
    await live_server.sign_in(page.context, month["doctor"].account)
    await page.goto(live_server.url + "/doctor/today")
    await page.get_by_role("link", name="结算单").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("结算单")
    await expect(page.locator("[data-total]")).to_have_text("¥126.00")
    await expect(page.locator("[data-lines] > li")).to_have_count(3)
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "settlement-doctor")

    # Another month: typed in the month box, or one step back with the link.
    await page.get_by_label("月份", exact=True).fill("2019-01")
    await page.get_by_role("button", name="查看").click()
    await expect(page.get_by_text("这个月没有收款或退款。")).to_be_visible()
    await page.get_by_role("link", name="本月").click()
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    await expect(page.get_by_label("月份", exact=True)).to_have_value(now.strftime("%Y-%m"))
    await page.get_by_role("link", name="← 上个月").click()
    await expect(page.get_by_label("月份", exact=True)).not_to_have_value(now.strftime("%Y-%m"))

    admin = await new_page(width=375)
    await live_server.sign_in(admin.context, month["hospital"].admin)
    await admin.goto(f"{live_server.url}/hospital/{month['hospital'].id}")
    await admin.get_by_role("link", name="结算单").last.click()
    await expect(admin.locator("[data-total]")).to_have_text("¥36.00")
    await expect(admin.get_by_role("heading", name="按医生汇总")).to_be_visible()
    assert await horizontal_overflow(admin) == 0
    await at_widths(admin, "settlement-hospital")
