"""The address book in real Chromium at phone width: an address added (refused beside its
field first), then a second one made the default."""

from __future__ import annotations

import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.seed import ready_patient

pytestmark = pytest.mark.browser


async def test_a_patient_adds_an_address_and_makes_it_the_default_on_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    patient = await ready_patient(app, real_name="陈 静")
    page = await new_page(width=375)
    await live_server.sign_in(page.context, patient.account)
    await page.goto(live_server.url + "/family")
    await page.get_by_role("link", name="我的地址").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("我的地址")
    await expect(page.get_by_text("还没有地址")).to_be_visible()

    async def fill(label: str | None, street: str, phone: str) -> None:
        await page.get_by_label("收货人").fill("陈 静")
        await page.get_by_label("联系电话").fill(phone)
        await page.get_by_label("省份").fill("浙江省")
        await page.get_by_label("城市").fill("杭州市")
        await page.get_by_label("区/县").fill("西湖区")
        await page.get_by_label("详细地址").fill(street)
        if label:
            await page.get_by_label("标签").fill(label)

    await fill("家", "文三路 90 号", "12345")
    await page.get_by_role("button", name="添加地址").click()
    await expect(page.locator('[data-field="phone"] .field-error')).to_be_visible()
    await expect(page.get_by_label("详细地址")).to_have_value("文三路 90 号")  # kept
    await page.get_by_label("联系电话").fill("138 0013 8000")
    await page.get_by_role("button", name="添加地址").click()
    await expect(page.get_by_role("status").first).to_contain_text("地址已添加")
    await expect(page.locator("[data-address]")).to_have_count(1)
    await expect(page.locator("[data-address]").first).to_contain_text("默认")

    await fill("公司", "古墩路 701 号", "0571-8888 1234")
    await page.get_by_role("button", name="添加地址").click()
    await expect(page.locator("[data-address]")).to_have_count(2)
    await page.get_by_role("button", name="将公司设为默认地址").click()
    await expect(page.get_by_role("status").first).to_contain_text("默认地址已更改")
    first = page.locator("[data-address]").first
    await expect(first).to_contain_text("古墩路 701 号")
    await expect(first).to_contain_text("默认")
    await expect(page.get_by_role("button", name="将家设为默认地址")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "addresses")
