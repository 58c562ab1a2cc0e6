"""The doctor's side in real Chromium: a doctor applies and uploads documents (with a
progress bar), the hospital cannot confirm everything, an operator reviews the evidence and
approves, the doctor sets a fee and weekly hours and publishes times; a hospital admin
connects the hospital's systems through the generated form."""

from __future__ import annotations

import asyncio
import re

import pytest
from litestar import Litestar
from playwright.async_api import Route, expect

from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.factories import (
    PDF_BYTES,
    PNG_BYTES,
    add_staff,
    hospital_with_demo_adapter,
    staff_record,
    unique_licence_number,
)
from medmarket.tests.support.fixtures import STRONG_PASSWORD, create_operator_account, unique_email

pytestmark = pytest.mark.browser


async def test_a_doctor_applies_an_operator_approves_and_the_doctor_publishes_times(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    # The registry knows the doctor but not since when they practise: a person decides.
    licence_number = unique_licence_number()
    record = staff_record(
        licence_number=licence_number,
        full_name="欧阳 明",
        title="副主任医师",
        practice_started_on=None,
    )
    await add_staff(app, hospital, record)
    page = await new_page(width=375)
    await page.goto(live_server.url + "/sign-up?role=doctor")
    await page.get_by_label("姓名").fill("欧阳 明")
    await page.get_by_label("电子邮箱").fill(unique_email("doctor"))
    await page.locator("#f-password").fill(STRONG_PASSWORD)
    await page.get_by_role("button", name="创建账户").click()
    await page.get_by_role("link", name="执业申请").first.click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("执业申请")
    await page.get_by_label("所在合作医院").select_option(hospital.id)
    await page.get_by_label("医师执业证书编号").fill(licence_number)
    await page.get_by_label("职称").select_option("副主任医师")
    await page.get_by_label("擅长领域").fill("呼吸内科、哮喘")
    await page.get_by_label("英语", exact=True).check()
    await page.get_by_role("button", name="保存申请").click()
    await expect(page.get_by_role("status").first).to_contain_text("申请已保存")

    # The upload shows its progress while the file travels (held back a moment here).
    release = asyncio.Event()

    async def slow(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/api/doctor/application/documents", slow)
    await page.get_by_label("资料类型").select_option("licence")
    await page.get_by_label("文件").set_input_files(
        {"name": "licence.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    await page.get_by_role("button", name="上传").click()
    await expect(page.locator("[data-upload-progress]")).to_be_visible()
    await expect(page.get_by_role("button", name="正在上传…")).to_be_visible()
    release.set()
    await expect(page.get_by_role("status").first).to_contain_text("资料已上传")
    await page.unroute("**/api/doctor/application/documents")

    # A file that is not what it says is refused beside the field, by the API, in Chinese.
    await page.get_by_label("资料类型").select_option("identity")
    await page.get_by_label("文件").set_input_files(
        {"name": "id.png", "mimeType": "image/png", "buffer": b"not really a png"}
    )
    await page.get_by_role("button", name="上传").click()
    await expect(page.locator('[data-field="file"] .field-error')).to_contain_text(
        "不是 PDF、JPG 或 PNG"
    )
    await page.get_by_label("文件").set_input_files(
        {"name": "id.png", "mimeType": "image/png", "buffer": PNG_BYTES}
    )
    await page.get_by_role("button", name="上传").click()
    await expect(page.get_by_role("link", name="身份证件")).to_be_visible()
    await page.get_by_role("button", name="提交审核").click()
    await expect(page.get_by_role("status").first).to_contain_text("申请已提交")
    await expect(page.locator(".section-title .badge")).to_have_text("待人工审核")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "application")

    operator = await create_operator_account(app)
    review = await new_page()
    await live_server.sign_in(review.context, operator)
    await review.goto(f"{live_server.url}/operator/applications?hospital_id={hospital.id}")
    await review.get_by_role("link", name="欧阳 明").click()
    await expect(review.get_by_text("执业年限 无法确认")).to_be_visible()
    await at_widths(review, "review")
    await review.get_by_label("理由").fill("已电话联系医院人事科核实")
    await review.get_by_role("button", name="批准").click()
    await expect(review.get_by_role("status").first).to_contain_text("已批准")

    await page.goto(live_server.url + "/doctor/schedule")
    await page.get_by_label("诊费（元）").fill("88")
    await page.get_by_role("button", name="保存诊费和规则").click()
    await expect(page.get_by_role("status").first).to_contain_text("诊费和规则已保存")
    window = page.locator('[data-field="weekly[0]"]')
    await window.get_by_label("星期").select_option("1")
    await window.get_by_label("开始").fill("09:00")
    await window.get_by_label("结束").fill("08:00")
    await page.get_by_role("button", name="保存出诊时段").click()
    await expect(window.locator(".field-error")).to_contain_text("结束要晚于开始")
    await expect(window.get_by_label("开始")).to_have_value("09:00")  # kept
    for day in range(1, 8):
        row = page.locator(f'[data-field="weekly[{day - 1}]"]')
        await row.get_by_label("星期").select_option(str(day))
        await row.get_by_label("开始").fill("08:00")
        await row.get_by_label("结束").fill("20:00")
    await page.get_by_role("button", name="保存出诊时段").click()
    await expect(page.get_by_role("status").first).to_contain_text("出诊时段已保存")
    await page.get_by_role("button", name="发布", exact=True).click()
    await expect(page.get_by_role("status").first).to_contain_text(re.compile(r"新增 \d+ 个时段"))
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "schedule")
    await page.goto(live_server.url + "/doctor/today")
    await at_widths(page, "today")


async def test_a_hospital_admin_connects_the_hospitals_systems(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    page = await new_page(width=375)
    await live_server.sign_in(page.context, hospital.admin)
    await page.goto(live_server.url + "/hospital")
    await expect(page.get_by_role("heading", level=1)).to_have_text(hospital.name)
    await page.get_by_label("对接方式").select_option("fhir-r4")
    await page.get_by_role("button", name="改用这种方式").click()
    await page.get_by_label("FHIR 服务地址").fill("http://127.0.0.1:9/fhir")
    await page.get_by_label("执业证书编号的标识系统（system）").fill("urn:oid:1.2.3")
    await page.get_by_label("医院的 Organization ID").fill("org-7")
    await page.get_by_label("访问令牌").fill("token-never-shown-again")
    await page.get_by_role("button", name="保存对接设置").click()
    await expect(page.get_by_role("status").first).to_contain_text("医院系统对接已保存")
    await expect(page.get_by_label("访问令牌")).to_have_value("")
    assert "token-never-shown-again" not in await page.content()
    await page.get_by_role("button", name="测试连接").click()
    await expect(page.locator("[data-test-result]")).to_contain_text("连接失败")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "hospital")


async def test_the_operators_dashboard_fits_a_phone(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    operator = await create_operator_account(app)
    page = await new_page(width=375)
    await live_server.sign_in(page.context, operator)
    await page.goto(live_server.url + "/operator")
    await expect(page.get_by_role("heading", level=1)).to_have_text("运营工作台")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "dashboard")
    await page.goto(live_server.url + "/operator/hospitals")
    assert await horizontal_overflow(page) == 0
    await at_widths(page, "hospitals")
