"""A patient's health record in real Chromium at phone width: from the family page to a
family member's record, medication saved, and a document of an earlier diagnosis uploaded
with a progress bar (refused beside its field first)."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from playwright.async_api import Route, expect

from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.factories import PDF_BYTES
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import expect as answered
from medmarket.tests.support.seed import ready_patient

pytestmark = pytest.mark.browser


async def test_a_patient_keeps_a_family_members_health_record_on_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    patient = await ready_patient(app, real_name="陈 静")
    async with client_for(app) as http:
        child = await answered(
            http.post(
                "/api/patients/me/family",
                headers=patient.headers,
                json={
                    "real_name": "陈 小雨",
                    "relationship": "child",
                    "date_of_birth": "2019-09-01",
                },
            ),
            201,
        )
    page = await new_page(width=375)
    await live_server.sign_in(page.context, patient.account)
    await page.goto(live_server.url + "/family")
    await page.get_by_role("link", name="陈 小雨的健康档案").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("陈 小雨的健康档案")

    await page.get_by_label("过敏史").fill("鸡蛋\n花生")
    await page.get_by_label("慢性病").fill("哮喘")
    await page.get_by_label("正在服用的药物").fill("布地奈德吸入剂 每日两次")
    await page.get_by_role("button", name="保存健康信息").click()
    await expect(page.get_by_role("status").first).to_contain_text("健康信息已保存")
    await expect(page.get_by_label("过敏史")).to_have_value("鸡蛋\n花生")

    # Empty fields are named at once, before anything is sent.
    await page.get_by_role("button", name="上传").click()
    for name in ("title", "institution", "issued_on", "file"):
        await expect(page.locator(f'[data-field="{name}"] .field-error')).to_contain_text(
            "请" if name != "file" else "请选择要上传的文件"
        )
    await page.get_by_label("资料类型").select_option("report")
    await page.get_by_label("资料名称").fill("肺功能检查报告")
    await page.get_by_label("出具机构").fill("浙江大学医学院附属儿童医院")
    await page.get_by_label("出具日期").fill("2026-02-03")

    # A file that is not what its name says is refused by the API, beside the field.
    await page.get_by_label("文件").set_input_files(
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all"}
    )
    await page.get_by_role("button", name="上传").click()
    await expect(page.locator('[data-field="file"] .field-error')).to_contain_text(
        "不是 PDF、JPG 或 PNG"
    )
    await expect(page.get_by_label("资料名称")).to_have_value("肺功能检查报告")  # kept

    # The upload shows its progress while the file travels (held back a moment here).
    release = asyncio.Event()

    async def slow(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route(f"**/api/patients/{child['id']}/documents", slow)
    await page.get_by_label("文件").set_input_files(
        {"name": "肺功能.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    await page.get_by_role("button", name="上传").click()
    await expect(page.locator("[data-upload-progress]")).to_be_visible()
    await expect(page.get_by_role("button", name="正在上传…")).to_be_visible()
    release.set()
    await expect(page.get_by_role("status").first).to_contain_text("资料已上传")
    await expect(page.get_by_role("link", name="肺功能检查报告")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "health")
