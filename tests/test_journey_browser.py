"""The journey of issue 7, end to end in real Chromium (two browser contexts for the call):
a doctor applies, an operator approves, the doctor publishes slots; a patient signs up,
books and pays; both open the call and each receives the other's video; the doctor
completes the visit; the patient reviews it."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.tests.support.browser import LiveServer, NewPage, at_widths
from medmarket.tests.support.browser_steps import cite_diagnosis, fill_card, video_flows
from medmarket.tests.support.factories import (
    PDF_BYTES,
    PNG_BYTES,
    add_staff,
    hospital_with_demo_adapter,
    staff_record,
    unique_licence_number,
)
from medmarket.tests.support.fixtures import STRONG_PASSWORD, create_operator_account, unique_email
from medmarket.tests.support.seed import move_visit

pytestmark = pytest.mark.browser


async def test_from_application_to_review(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    specialty = "旅程科" + uuid.uuid4().hex[:4]
    hospital = await hospital_with_demo_adapter(app)
    # The hospital's registry knows the doctor but not when independent practice began:
    # the checks leave that to a person.
    licence_number = unique_licence_number()
    await add_staff(
        app,
        hospital,
        staff_record(
            licence_number=licence_number,
            full_name="沈 大夫",
            title="主任医师",
            specialties=[specialty],
            practice_started_on=None,
        ),
    )

    # A doctor applies.
    doctor = await new_page()
    await doctor.goto(live_server.url + "/sign-up?role=doctor")
    await doctor.get_by_label("姓名").fill("沈 大夫")
    await doctor.get_by_label("电子邮箱").fill(unique_email("doctor"))
    await doctor.locator("#f-password").fill(STRONG_PASSWORD)
    await doctor.get_by_role("button", name="创建账户").click()
    await doctor.goto(live_server.url + "/doctor/application")
    await doctor.get_by_label("所在合作医院").select_option(hospital.id)
    await doctor.get_by_label("医师执业证书编号").fill(licence_number)
    await doctor.get_by_label("职称").select_option("主任医师")
    await doctor.get_by_label("擅长领域").fill(specialty)
    await doctor.get_by_role("button", name="保存申请").click()
    for kind, name, mime, content in (
        ("licence", "licence.pdf", "application/pdf", PDF_BYTES),
        ("identity", "id.png", "image/png", PNG_BYTES),
    ):
        await doctor.get_by_label("资料类型").select_option(kind)
        await doctor.get_by_label("文件").set_input_files(
            {"name": name, "mimeType": mime, "buffer": content}
        )
        await doctor.get_by_role("button", name="上传").click()
        await expect(doctor.get_by_role("status").first).to_contain_text("资料已上传")
    await doctor.get_by_role("button", name="提交审核").click()
    await expect(doctor.locator(".section-title .badge")).to_have_text("待人工审核")

    # An operator approves.
    operator = await new_page()
    await live_server.sign_in(operator.context, await create_operator_account(app))
    await operator.goto(f"{live_server.url}/operator/applications?hospital_id={hospital.id}")
    await operator.get_by_role("link", name="沈 大夫").click()
    await operator.get_by_label("理由").fill("已与医院人事科核实")
    await operator.get_by_role("button", name="批准").click()
    await expect(operator.get_by_role("status").first).to_contain_text("已批准")

    # The doctor sets a fee and all-day hours, and publishes slots.
    await doctor.goto(live_server.url + "/doctor/schedule")
    await doctor.get_by_label("诊费（元）").fill("60")
    await doctor.get_by_role("button", name="保存诊费和规则").click()
    for day in range(1, 8):
        row = doctor.locator(f'[data-field="weekly[{day - 1}]"]')
        await row.get_by_label("星期").select_option(str(day))
        await row.get_by_label("开始").fill("00:00")
        await row.get_by_label("结束").fill("23:30")
    await doctor.get_by_role("button", name="保存出诊时段").click()
    await doctor.get_by_role("button", name="发布", exact=True).click()
    await expect(doctor.get_by_role("status").first).to_contain_text(re.compile(r"新增 \d+ 个时段"))

    # A patient signs up, finds the doctor, books and pays.
    patient = await new_page(width=375)
    await patient.goto(live_server.url + "/sign-up")
    await patient.get_by_label("姓名").fill("陆 小雨")
    await patient.get_by_label("电子邮箱").fill(unique_email("patient"))
    await patient.locator("#f-password").fill(STRONG_PASSWORD)
    await patient.get_by_role("button", name="创建账户").click()
    await patient.get_by_label("手机号码").fill("13700137000")
    await patient.get_by_label("出生日期").fill("1962-07-15")
    await patient.get_by_role("button", name="保存并继续").click()
    await patient.get_by_label("我已阅读并同意上述健康信息处理知情同意书").check()
    await patient.get_by_role("button", name="同意", exact=True).click()
    await patient.get_by_label("搜索医生、科室或医院").fill(specialty)
    await patient.get_by_role("button", name="搜索").click()
    await patient.get_by_role("link", name="查看 沈 大夫 并预约").click()
    await patient.locator("a.slot").first.click()
    await cite_diagnosis(patient)
    await patient.get_by_role("button", name="保留时间并去支付").click()
    await fill_card(patient)
    await patient.get_by_role("button", name="支付 ¥60.00").click()
    await expect(patient.get_by_role("status").first).to_contain_text("支付成功，预约已确认")
    booking_id = patient.url.split("/visits/")[1].split("?")[0]

    # The visit's time comes (the clock is moved, not waited for); both open the call.
    await move_visit(app, booking_id, -dt.timedelta(minutes=2))
    await patient.reload()
    await patient.get_by_role("link", name="进入候诊室").click()
    await expect(patient.locator("[data-call]")).to_have_attribute("data-state", "waiting_doctor")
    await doctor.goto(live_server.url + "/doctor/today")
    await doctor.get_by_role("link", name="进入诊室").click()
    await doctor.get_by_role("button", name="请患者进入").click()
    await video_flows(doctor)
    await video_flows(patient)
    await at_widths(patient, "journey-call")

    # The doctor completes the visit; the patient reviews it.
    await doctor.get_by_text("结束问诊").click()
    await doctor.get_by_role("button", name="结束就诊").click()
    await expect(doctor.get_by_role("status").first).to_contain_text("已记录就诊结果")
    await expect(patient.locator("[data-call]")).to_have_attribute("data-state", "ended")
    await patient.get_by_role("link", name="返回就诊详情").click()
    await patient.get_by_label("★★★★★ 非常满意").check()
    await patient.get_by_label("评价内容").fill("足不出户看上了专家")
    await patient.get_by_role("button", name="提交评价").click()
    await expect(patient.get_by_role("status").first).to_contain_text("感谢您的评价")
    await patient.goto(f"{live_server.url}/experts?specialty={specialty}")
    await expect(patient.get_by_text("5 分（1 条评价）")).to_be_visible()
