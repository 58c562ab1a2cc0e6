"""The whole prescription path in real Chromium (issue 13): the patient waits, the doctor lets
them in and the call connects with fake media; during the call the doctor opens the call
page's prescribing fold, reads the patient's allergies, finds the drug by typing and issues
the prescription, which awaits review; the hospital's pharmacist, on a 375 px phone, opens
it on the desk and approves it; the patient sees it approved on their visit page."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.consults.tests.helpers import booked_visit, ok
from medmarket.prescriptions.tests.review_helpers import reviewing_pharmacy
from medmarket.tests.support.browser import LiveServer, NewPage, horizontal_overflow
from medmarket.tests.support.seed import ready_patient

pytestmark = pytest.mark.browser

RECORD = {
    "allergies": ["青霉素"],
    "chronic_conditions": ["原发性高血压"],
    "current_medications": [],
}
DIAGNOSIS = "原发性高血压 2 级"


async def test_prescribed_in_the_call_approved_on_the_desk_seen_by_the_patient(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    patient_account = await ready_patient(app)
    await ok(app, "PUT", f"/api/patients/{patient_account.id}/health", patient_account, RECORD)
    visit = await booked_visit(app, patient=patient_account)  # paid; it began five minutes ago
    own = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)

    # The patient waits; the doctor lets them in; the call connects.
    patient = await new_page(width=375)
    await live_server.sign_in(patient.context, visit.patient.account)
    await patient.goto(f"{live_server.url}/visits/{visit.booking_id}")
    await patient.get_by_role("link", name="进入候诊室").click()
    patient_call = patient.locator("[data-call]")
    await expect(patient_call).to_have_attribute("data-state", "waiting_doctor")

    doctor = await new_page()
    await live_server.sign_in(doctor.context, visit.doctor.account)
    await doctor.goto(f"{live_server.url}/doctor/today")
    await expect(doctor.locator("[data-waiting]")).to_have_text("候诊中")
    await doctor.get_by_role("link", name="进入诊室").click()
    await doctor.get_by_role("button", name="请患者进入").click()
    doctor_call = doctor.locator("[data-call]")
    await expect(doctor_call).to_have_attribute("data-state", "connected", timeout=20_000)
    await expect(patient_call).to_have_attribute("data-state", "connected", timeout=20_000)

    # During the call the doctor prescribes from the call page's fold.
    fold = doctor.locator("details#prescribe")
    await fold.locator("summary").click()
    await expect(fold.locator("[data-health=allergies] dd")).to_have_text("青霉素")
    await expect(fold.locator("[data-health=current_medications] dd")).to_have_text("无")
    await expect(fold.locator("[data-rx-list] [data-prescription]")).to_have_count(0)
    await fold.get_by_label("临床诊断", exact=True).fill(DIAGNOSIS)
    drug = fold.get_by_role("combobox", name="药品")
    await drug.fill("aldp")  # pinyin initials of 氨氯地平
    await fold.get_by_role("option", name=re.compile("氨氯地平")).first.click()
    await expect(drug).to_have_value(re.compile("^氨氯地平"))
    await expect(fold.get_by_label("给药途径")).to_have_value("oral")
    await expect(fold.get_by_label("总量单位")).to_have_value("tablet")
    await fold.get_by_label("单次剂量").fill("5")
    await fold.get_by_label("用药频次").select_option("qd")
    await fold.get_by_label("用药天数").fill("7")
    await fold.get_by_label("总量", exact=True).fill("7")  # 5 mg once a day for 7 days
    await fold.get_by_role("button", name="开具处方").click()

    await expect(fold.locator("[data-rx-status]")).to_have_text("处方已开具，等待药师审核。")
    entry = fold.locator("[data-rx-list] [data-prescription]")
    await expect(entry).to_have_count(1)
    await expect(entry).to_contain_text(DIAGNOSIS)
    await expect(entry.locator("[data-standing]")).to_have_text("待药师审核")
    prescription_id = await entry.get_attribute("data-prescription")
    assert prescription_id
    # Prescribing did not interrupt the call.
    await expect(doctor_call).to_have_attribute("data-state", "connected")
    await expect(patient_call).to_have_attribute("data-state", "connected")

    # The pharmacist of the doctor's hospital approves it on the desk, on a phone.
    desk = await new_page(width=375)
    await live_server.sign_in(desk.context, own.pharmacist)
    await desk.goto(live_server.url + "/account")
    await desk.get_by_role("link", name="审方工作台").click()
    await expect(desk.get_by_role("heading", level=1)).to_have_text("处方审核工作台")
    card = desk.locator(f'[data-prescription="{prescription_id}"]')
    await expect(card.locator("[data-waiting]")).to_contain_text("已等待")
    assert await horizontal_overflow(desk) == 0
    await card.get_by_role("link", name=DIAGNOSIS).click()
    await expect(desk.get_by_role("heading", level=1)).to_have_text("审核处方")
    await expect(desk.locator("[data-standing]")).to_have_text("待审核")
    await expect(desk.get_by_text("氨氯地平").first).to_be_visible()
    assert await horizontal_overflow(desk) == 0
    await desk.get_by_role("button", name="审核通过").click()
    await expect(desk.get_by_role("status").first).to_contain_text("处方已审核通过")
    await expect(desk.locator(f'[data-prescription="{prescription_id}"]')).to_have_count(0)

    # The patient, leaving the call for their visit page, sees it approved.
    await patient.goto(f"{live_server.url}/visits/{visit.booking_id}")
    listed = patient.locator(f'#prescriptions [data-prescription="{prescription_id}"]')
    await expect(listed).to_contain_text(DIAGNOSIS)
    await expect(listed).to_contain_text("氨氯地平")
    await expect(listed.locator("[data-standing]")).to_have_text("已审核通过")
    assert await horizontal_overflow(patient) == 0
    seen = await ok(app, "GET", f"/api/prescriptions/{prescription_id}", visit.patient)
    assert (seen["status"], seen["standing"]) == ("approved", "approved")
    assert [(i["quantity"], i["duration_days"]) for i in seen["items"]] == [("7", 7)]
