"""The stock page in real Chromium at phone width: a pharmacist goes from the desk's
navigation to 库存与价格, finds amlodipine, adds it by the box, is told a price it cannot
read, corrects its on-hand count, and sets the delivery areas."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.drugs.seed import seed_id
from medmarket.pharmacies.tests.helpers import register
from medmarket.pharmacies.tests.test_stock import pharmacist_of
from medmarket.tests.support.browser import LiveServer, NewPage, horizontal_overflow
from medmarket.tests.support.fixtures import Account

pytestmark = pytest.mark.browser


async def test_a_pharmacist_adds_a_drug_prices_it_and_sets_delivery_areas(
    app: Litestar,
    client: httpx.AsyncClient,
    operator: Account,
    sign_up: Any,
    live_server: LiveServer,
    new_page: NewPage,
) -> None:
    pharmacy = await register(client, operator)
    pharmacist = await pharmacist_of(client, operator, sign_up, pharmacy["id"])
    page = await new_page(width=375)
    await live_server.sign_in(page.context, pharmacist)
    await page.goto(live_server.url + "/review-desk")
    await page.get_by_role("link", name="库存与价格").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("库存与价格")
    await expect(page.get_by_text("还没有在售药品")).to_be_visible()

    await page.get_by_label("查找药品").fill("氨氯地平")
    await page.get_by_role("button", name="搜索").click()
    found = page.locator("[data-found] li").first
    await expect(found).to_contain_text("氨氯地平")
    await found.get_by_label("单位").select_option("box")
    await found.get_by_label("价格（元）").fill("二十五")
    await found.get_by_label("库存").fill("12")
    await found.get_by_role("button", name="添加").click()
    await expect(page.get_by_role("alert")).to_contain_text("精确到分")

    found = page.locator("[data-found] li").first
    await page.get_by_label("查找药品").fill("氨氯地平")
    await page.get_by_role("button", name="搜索").click()
    found = page.locator("[data-found] li").first
    await found.get_by_label("单位").select_option("box")
    await found.get_by_label("价格（元）").fill("25.20")
    await found.get_by_label("库存").fill("12")
    await found.get_by_role("button", name="添加").click()
    await expect(page.get_by_role("status").first).to_contain_text("已保存")
    line = page.locator(f'[data-stock-line="{seed_id("amlodipine-tab-5mg")}/box"]')
    await expect(line).to_contain_text("每盒")
    await expect(line.get_by_label("价格（元）")).to_have_value("25.20")
    await line.get_by_label("库存").fill("0")
    await line.get_by_role("button", name="保存").click()
    await expect(
        page.locator('[data-stock-line] >> text="已售罄：补货前无法下单。"')
    ).to_be_visible()
    assert await horizontal_overflow(page) == 0

    await page.get_by_label("配送地区").fill("浙江省 杭州市 西湖区\n浙江省 杭州市 拱墅区")
    await page.get_by_role("button", name="保存配送范围").click()
    await expect(page.get_by_role("status").first).to_contain_text("配送范围已保存")
    await expect(page.get_by_label("配送地区")).to_have_value(
        "浙江省 杭州市 拱墅区\n浙江省 杭州市 西湖区"
    )

    stock = await client.get(f"/api/pharmacies/{pharmacy['id']}/stock", headers=operator.headers)
    assert [(i["unit"], i["price_fen"], float(i["on_hand"])) for i in stock.json()] == [
        ("box", 2520, 0.0)
    ]
