"""The operators' drug catalog in real Chromium at phone width: from the navigation to a
search, a drug added after a refused code, then retired."""

from __future__ import annotations

import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.drugs.tests.helpers import unique_names
from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.fixtures import create_operator_account

pytestmark = pytest.mark.browser


async def test_an_operator_finds_adds_and_retires_a_drug_on_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    operator = await create_operator_account(app)
    page = await new_page(width=375)
    await live_server.sign_in(page.context, operator)
    await page.goto(live_server.url + "/operator")
    await page.get_by_role("link", name="药品目录").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("药品目录")
    await page.get_by_role("searchbox").fill("aldp")
    await page.get_by_role("button", name="搜索", exact=True).click()
    await expect(page.locator("[data-results] li").first).to_contain_text("氨氯地平 · 片剂 5 mg")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "operator-drugs")

    zh, en = unique_names()
    await page.get_by_label("通用名（中文）").fill(zh)
    await page.get_by_label("通用名（英文）").fill(en)
    await page.get_by_label("剂型").select_option("tablet")
    await page.get_by_label("规格").fill("10")
    await page.get_by_label("单位").select_option("mg")
    await page.get_by_label("给药途径").select_option("oral")
    await page.get_by_label("ATC 编码").fill("C08CA1")
    await page.get_by_role("button", name="添加药品").click()
    await expect(page.locator('[data-field="atc_code"] .field-error')).to_contain_text("WHO ATC")
    await expect(page.get_by_label("ATC 编码")).to_be_focused()
    await page.get_by_label("ATC 编码").fill("C08CA01")
    await page.get_by_role("button", name="添加药品").click()
    await expect(page.get_by_role("status").first).to_contain_text("药品已添加到目录")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(zh)
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "operator-drug")

    await page.get_by_role("button", name="停用药品").click()
    await expect(page.get_by_role("status").first).to_contain_text("药品已停用")
    await expect(page.get_by_role("button", name="恢复使用")).to_be_visible()
