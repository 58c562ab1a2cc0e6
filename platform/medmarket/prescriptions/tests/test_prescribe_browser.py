"""Prescribing in real Chromium, on a 375 px phone, from the doctor's visit page without the call
running: the doctor reads the patient's health record, finds the drug by typing, is told a
warning needs a reason, gives it and issues the prescription, which the call page's panel
lists too; the patient, on their own phone, sees it on their visit page and opens the
printable prescription."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import pypdf
import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.prescriptions import dependencies
from medmarket.prescriptions.model import DraftPrescription, Finding, Limits, PatientFacts
from medmarket.prescriptions.tests.helpers import ok, visit_in_progress
from medmarket.tests.support.browser import (
    SCREENSHOTS,
    LiveServer,
    NewPage,
    at_widths,
    horizontal_overflow,
)
from medmarket.tests.support.seed import ready_patient

pytestmark = pytest.mark.browser

RECORD = {
    "allergies": ["青霉素"],
    "chronic_conditions": ["原发性高血压"],
    "current_medications": [],
}


def long_supply(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterable[Finding]:
    """A warning whatever the platform's own rules say: more than five days needs a reason."""
    for index, item in enumerate(draft.items):
        if item.duration_days > 5:
            yield Finding(
                rule="test.long_supply",
                severity="warning",
                message_zh="用药天数较长",
                message_en="a long supply",
                item=index,
                field=f"items[{index}].duration_days",
            )


async def test_the_doctor_prescribes_on_a_phone_and_the_patient_sees_it(
    app: Litestar, live_server: LiveServer, new_page: NewPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dependencies, "plugins_rules", lambda services: (long_supply,))
    patient = await ready_patient(app)
    await ok(app, "PUT", f"/api/patients/{patient.id}/health", patient, RECORD)
    visit = await visit_in_progress(app, patient=patient)

    doctor = await new_page(width=375)
    await live_server.sign_in(doctor.context, visit.doctor.account)
    await doctor.goto(f"{live_server.url}/doctor/visits/{visit.booking_id}")
    panel = doctor.locator("[data-prescribe]")
    await expect(panel.locator("[data-health=allergies] dd")).to_have_text("青霉素")
    await expect(panel.locator("[data-health=current_medications] dd")).to_have_text("无")

    await panel.get_by_label("临床诊断", exact=True).fill("原发性高血压 2 级")
    # Sent without a drug: the form names what is missing, beside it.
    await panel.get_by_role("button", name="开具处方").click()
    await expect(panel.locator('[data-field="items[0].drug_id"] .field-error')).to_have_text(
        "请填写此项。"
    )

    drug = panel.get_by_role("combobox", name="药品")
    await drug.fill("aldp")  # pinyin initials of 氨氯地平
    await panel.get_by_role("option", name=re.compile("氨氯地平")).first.click()
    await expect(drug).to_have_value(re.compile("^氨氯地平"))
    await expect(panel.get_by_label("给药途径")).to_have_value("oral")
    await panel.get_by_label("单次剂量").fill("5")
    await panel.get_by_label("总量", exact=True).fill("7")
    await panel.get_by_label("用药频次").select_option("qd")
    await panel.get_by_role("button", name="开具处方").click()

    # Seven days is a warning of the (test's) rules: a reason is asked for, beside the warning.
    await expect(panel.locator("[data-rx-status]")).to_have_text(
        "请为每条警示说明理由，然后重新开具。"
    )
    await expect(panel.locator('[data-severity="warning"]')).to_contain_text("用药天数较长")
    reason = panel.get_by_label("您的理由：用药天数较长")
    await expect(reason).to_be_focused()
    assert await horizontal_overflow(doctor) == 0
    await at_widths(doctor, "prescribe-reasons", widths=(375,))
    await reason.fill("患者出差一周，无法复诊")
    await panel.get_by_role("button", name="开具处方").click()

    await expect(panel.locator("[data-rx-status]")).to_have_text("处方已开具，等待药师审核。")
    entry = doctor.locator("[data-rx-list] [data-prescription]")
    await expect(entry).to_have_count(1)
    await expect(entry).to_contain_text("原发性高血压 2 级")
    await expect(entry.locator("[data-standing]")).to_have_text("待药师审核")
    await expect(panel.get_by_role("combobox", name="药品")).to_have_value("")
    assert await horizontal_overflow(doctor) == 0

    # The call page has the same panel, folded beside the call, and the same list.
    await doctor.goto(f"{live_server.url}/call/{visit.consultation_id}")
    fold = doctor.locator("details#prescribe")
    await fold.locator("summary").click()
    await expect(fold.locator("[data-health=allergies] dd")).to_have_text("青霉素")
    await expect(fold.locator("[data-rx-list] [data-prescription]")).to_have_count(1)
    await expect(fold.get_by_role("combobox", name="药品")).to_be_visible()

    issued = await ok(app, "GET", visit.path + "/prescriptions", visit.doctor)
    assert len(issued) == 1
    (warning,) = [f for f in issued[0]["findings"] if f["rule"] == "test.long_supply"]
    assert warning["reason"] == "患者出差一周，无法复诊"

    mine = await new_page(width=375)
    await live_server.sign_in(mine.context, visit.patient.account)
    await mine.goto(f"{live_server.url}/visits/{visit.booking_id}")
    listed = mine.locator("#prescriptions [data-prescription]")
    await expect(listed).to_contain_text("原发性高血压 2 级")
    await expect(listed).to_contain_text("氨氯地平")
    await expect(listed.locator("[data-standing]")).to_have_text("待药师审核")
    assert await horizontal_overflow(mine) == 0
    await at_widths(mine, "visit-prescriptions", widths=(375,))
    await listed.get_by_role("link", name="打印处方笺").click()
    await expect(mine.get_by_role("heading", level=1)).to_have_text("处方笺")
    await expect(mine.locator(".rx-usage").first).to_have_text(
        "用法用量：口服，每次 5 mg，每日一次，共 7 天"
    )
    await expect(mine.locator("svg.qr")).to_be_visible()
    assert await horizontal_overflow(mine) == 0
    await at_widths(mine, "prescription-print", widths=(375,))
    # Printed, it is one A5 sheet: the prescription alone, without the site around it.
    await mine.emulate_media(media="print")
    printed = pypdf.PdfReader(io.BytesIO(await mine.pdf(prefer_css_page_size=True)))
    assert len(printed.pages) == 1
    width, height = (round(float(v) / 72 * 25.4) for v in printed.pages[0].mediabox.upper_right)
    assert (width, height) == (148, 210)
    on_paper = printed.pages[0].extract_text()
    assert "处方笺" in on_paper.replace(" ", "") and "找专家" not in on_paper
    (SCREENSHOTS / "prescription-print-a5.pdf").write_bytes(
        await mine.pdf(prefer_css_page_size=True)
    )
