"""Ordering in real Chromium at phone width: the patient opens the approved prescription from
the visit page, picks the hospital's own pharmacy for self-pickup, pays with the gateway's
own card fields, and sees the pickup code; the pharmacist finds the order on the desk,
accepts and packs it, is told a wrong code, and hands it over against the right one; the
patient's page then says collected, with each step's time in the patient's zone."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from playwright.async_api import Page, expect

from medmarket.orders.tests.helpers import address, approved_prescription
from medmarket.tests.support.browser import LiveServer, NewPage, horizontal_overflow
from medmarket.tests.support.browser_steps import fill_card

pytestmark = pytest.mark.browser


async def no_overflow(page: Page) -> None:
    assert await horizontal_overflow(page) == 0, page.url


async def test_a_patient_orders_on_a_phone_and_the_pharmacy_packs_and_hands_it_over(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    approved = await approved_prescription(app)
    await address(app, approved.patient, is_default=True)

    patient = await new_page(width=375)
    await live_server.sign_in(patient.context, approved.patient.account)
    await patient.goto(f"{live_server.url}/visits/{approved.visit.booking_id}")
    await patient.get_by_role("link", name="购药").first.click()
    await expect(patient.get_by_role("heading", level=1)).to_have_text("购药")
    choice = patient.locator(f'[data-pharmacy="{approved.pharmacy.id}"]')
    await expect(choice).to_contain_text("开方医院药房")
    await expect(choice).to_contain_text("¥10.50")
    await no_overflow(patient)
    await choice.get_by_role("radio").check()
    await patient.get_by_label("到店自取").check()
    await patient.get_by_role("button", name="下单").click()

    await expect(patient.get_by_role("heading", level=1)).to_have_text("支付药费")
    await expect(patient.locator(".order-money")).to_contain_text("¥10.50")
    await no_overflow(patient)
    await fill_card(patient)
    await patient.get_by_role("button", name=re.compile("支付")).click()
    await expect(patient.get_by_role("status").first).to_contain_text("付款成功")
    await expect(patient.locator("[data-order-status]").first).to_have_text("待药房接单")
    code = (await patient.locator("[data-handover-code]").inner_text()).strip()
    assert re.fullmatch(r"[0-9]{6}", code)
    await no_overflow(patient)

    pharmacist = await new_page(width=375)
    await live_server.sign_in(pharmacist.context, approved.pharmacy.pharmacist)
    await pharmacist.goto(live_server.url + "/review-desk")
    await pharmacist.get_by_role("link", name="订单", exact=True).first.click()
    await expect(pharmacist.get_by_role("heading", level=1)).to_have_text("订单")
    order_id = patient.url.rsplit("/", 1)[-1].split("?")[0]
    row = pharmacist.locator(f'[data-order="{order_id}"]')
    await expect(row).to_contain_text("氨氯地平")
    await expect(pharmacist.get_by_text(code)).to_have_count(0)  # the desk never sees it
    await row.get_by_role("link").click()
    await pharmacist.get_by_role("button", name="接单配药").click()
    await expect(pharmacist.get_by_role("status").first).to_contain_text("已接单")
    await pharmacist.get_by_role("button", name="已备好，通知患者取药").click()
    await expect(pharmacist.locator("[data-order-status]").first).to_have_text("可到店自取")
    await no_overflow(pharmacist)

    wrong = "000000" if code != "000000" else "111111"
    await pharmacist.get_by_label("取药码").fill(wrong)
    await pharmacist.get_by_role("button", name="核对并交药").click()
    await expect(pharmacist.locator('[data-field="code"] .field-error')).to_contain_text(
        "取药码不对"
    )
    await pharmacist.get_by_label("取药码").fill(code)
    await pharmacist.get_by_role("button", name="核对并交药").click()
    await expect(pharmacist.get_by_role("status").first).to_contain_text("已交药")
    await expect(pharmacist.locator("[data-order-status]").first).to_have_text("已取药")

    await patient.reload()
    await expect(patient.locator("[data-order-status]").first).to_have_text("已取药")
    steps = patient.locator("[data-timeline] li strong")
    await expect(steps).to_have_text(["已取药", "可到店自取", "药房已接单", "待药房接单", "待付款"])
    first_time = patient.locator("[data-timeline] time").last
    assert (await first_time.get_attribute("datetime") or "").endswith("+08:00")
    await expect(patient.get_by_text("时间为中国时间。")).to_be_visible()
    await no_overflow(patient)
