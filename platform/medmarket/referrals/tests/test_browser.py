"""Referring in real Chromium at phone width: the doctor opens the referral form from the
visit, sees the emergency's advice field appear only for an emergency, and sends it; the
patient reads the advice first, agrees to share the record, and once the hospital booked
them reads the green-channel ticket and what to bring; no page scrolls sideways."""

from __future__ import annotations

import os

import pytest
from litestar import Litestar
from playwright.async_api import Page, expect

from medmarket.referrals.tests.helpers import deliver_outbox, receiving_hospital, visit_under_way
from medmarket.tests.support.browser import LiveServer, NewPage, horizontal_overflow

pytestmark = pytest.mark.browser
ADVICE = "立即拨打 120，原地休息"


async def no_overflow(page: Page) -> None:
    assert await horizontal_overflow(page) == 0, page.url


async def shot(page: Page, name: str) -> None:
    """A screenshot for a person to look at, when MEDMARKET_SCREENSHOTS names a folder."""
    folder = os.environ.get("MEDMARKET_SCREENSHOTS")
    if folder:
        await page.screenshot(path=f"{folder}/{name}.png", full_page=True)


async def test_a_patient_agrees_on_a_phone_and_reads_the_ticket(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)

    doctor = await new_page(width=375)
    await live_server.sign_in(doctor.context, visit.doctor.account)
    await doctor.goto(f"{live_server.url}/doctor/visits/{visit.booking_id}")
    await doctor.get_by_role("link", name="转诊", exact=True).click()
    await expect(doctor.get_by_role("heading", level=1)).to_have_text("转诊到合作医院")
    advice = doctor.get_by_label("患者现在要做什么")
    await expect(advice).to_be_hidden()
    await doctor.get_by_label("医院和科室").select_option(f"{hospital.id}|心内科")
    await doctor.get_by_label("急症").check()
    await expect(advice).to_be_visible()
    await advice.fill(ADVICE)
    await doctor.get_by_label("转诊理由").fill("胸痛待查，需冠脉造影")
    await doctor.get_by_label("病情摘要").fill("男，58 岁。活动后胸痛 2 周，心电图 ST 段压低。")
    await no_overflow(doctor)
    await shot(doctor, "doctor-form")
    await doctor.get_by_role("button", name="发送转诊").click()
    await expect(doctor.get_by_role("status").first).to_contain_text("转诊已发出")
    await expect(doctor.locator("[data-referral-status]").first).to_have_text("待患者同意")
    referral_id = doctor.url.rsplit("/", 1)[-1].split("?")[0]
    await no_overflow(doctor)

    patient = await new_page(width=375)
    await live_server.sign_in(patient.context, visit.patient.account)
    await patient.goto(live_server.url + "/visits")
    await patient.get_by_role("link", name="转诊", exact=True).click()
    await expect(patient.locator("[data-emergency-advice]")).to_contain_text(ADVICE)
    await patient.locator(f'[data-referral="{referral_id}"] a').first.click()
    await expect(patient.get_by_role("alert").first).to_contain_text(ADVICE)
    await expect(patient.locator("[data-shared]")).to_contain_text("姓名、出生日期、性别和手机号")
    await no_overflow(patient)
    await shot(patient, "patient-consent")
    await patient.get_by_role("button", name="我同意将病历分享给该医院").click()
    await expect(patient.get_by_role("status").first).to_contain_text("已同意")
    await expect(patient.locator("[data-referral-status]").first).to_have_text("等待医院答复")

    await deliver_outbox(app)
    await patient.reload()
    await expect(patient.locator("[data-referral-status]").first).to_have_text("已安排就诊")
    ticket = patient.locator("[data-ticket-number]")
    await expect(ticket).to_be_visible()
    assert (await ticket.inner_text()).strip()
    await expect(patient.locator("[data-ticket]")).to_contain_text("出示此号码，免挂号直接就诊")
    # An emergency the demo hospital sees in its emergency department.
    await expect(patient.locator("[data-place]")).to_contain_text("急诊科")
    await expect(patient.locator("[data-to-bring]")).to_contain_text("医保卡")
    size = await ticket.evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
    assert size >= 28, "the ticket reads across the counter"
    assert (await patient.locator("[data-when]").get_attribute("datetime") or "").endswith("+08:00")
    await no_overflow(patient)
    await shot(patient, "patient-ticket")
