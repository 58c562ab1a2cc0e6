"""The operators' pharmacy pages in real Chromium at phone width: from the navigation to a
pharmacy registered after a refused day of opening hours, then closed."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.pharmacies.tests.helpers import unique_licence
from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.fixtures import create_operator_account

pytestmark = pytest.mark.browser


async def test_an_operator_registers_and_closes_a_pharmacy_on_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    operator = await create_operator_account(app)
    page = await new_page(width=375)
    await live_server.sign_in(page.context, operator)
    await page.goto(live_server.url + "/operator")
    await page.get_by_role("link", name="药房", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("药房")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "operator-pharmacies")

    name = f"浏览器测试药房（{uuid.uuid4().hex[:6]}店）"
    await page.get_by_label("名称（中文）").fill(name)
    await page.get_by_label("药品经营许可证编号").fill(unique_licence())
    await page.get_by_label("省份").fill("浙江省")
    await page.get_by_label("城市").fill("杭州市")
    await page.get_by_label("详细地址").fill("文三路 100 号")
    await page.get_by_label("电话").fill("0571-8888 1234")
    await page.get_by_label("星期一").fill("08:00-12:00, 13:00 至 20:00")
    await page.get_by_label("星期二").fill("八点到八点")
    await page.get_by_label("药师审核处方（审方）").check()
    await page.get_by_role("button", name="登记药房").click()
    await expect(page.locator('[data-field="hours[2]"] .field-error')).to_contain_text(
        "08:00-12:00"
    )
    await expect(page.get_by_label("星期二")).to_be_focused()
    await page.get_by_label("星期二").fill("08:00-20:00")
    await page.get_by_role("button", name="登记药房").click()
    await expect(page.get_by_role("status").first).to_contain_text("药房已登记")
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(page.get_by_label("星期一")).to_have_value("08:00-12:00, 13:00-20:00")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "operator-pharmacy")

    await page.get_by_role("button", name="关闭药房").click()
    await expect(page.get_by_role("status").first).to_contain_text("药房已关闭")
    await expect(page.get_by_role("button", name="关闭药房")).to_have_count(0)
