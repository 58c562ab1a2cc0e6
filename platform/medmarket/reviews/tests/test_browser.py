"""The doctor's reviews in real Chromium at phone width: from the navigation to a review,
a reply refused while empty and then published, and read on the public doctor's page."""

from __future__ import annotations

import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.reviews.tests.helpers import reviewed_visit
from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.seed import approved_doctor, ready_patient

pytestmark = pytest.mark.browser


async def test_a_doctor_replies_to_a_review_on_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    doctor = await approved_doctor(app, full_name="孙 立平", publish_days=2)
    patient = await ready_patient(app, real_name="钱 多多")
    await reviewed_visit(app, doctor, patient, 5, "孙医生解释得很清楚，复诊很方便。")
    page = await new_page(width=375)
    await live_server.sign_in(page.context, doctor.account)
    await page.goto(live_server.url + "/doctor/today")
    await page.get_by_role("link", name="患者评价").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("患者评价")
    review = page.locator(".review-card").filter(has_text="孙医生解释得很清楚")
    await expect(review).to_contain_text("钱**")

    await review.get_by_role("button", name="发布回复").click()
    review = page.locator(".review-card").filter(has_text="孙医生解释得很清楚")
    await expect(review.locator(".field-error")).to_contain_text("请写下回复内容")
    await expect(review.get_by_label("回复这条评价")).to_be_focused()
    await review.get_by_label("回复这条评价").fill("谢谢您的信任，按时服药，三个月后复查。")
    await review.get_by_role("button", name="发布回复").click()
    await expect(page.get_by_role("status").first).to_contain_text("回复已发布")
    await expect(review.locator(".reply")).to_contain_text("三个月后复查")
    await expect(review.get_by_role("button", name="发布回复")).to_have_count(0)
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "doctor-reviews")

    await page.get_by_role("link", name="查看我的公开主页").first.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("孙 立平")
    await expect(page.locator(".review .reply")).to_contain_text("三个月后复查")
