"""The review desk in real Chromium at phone width: the pharmacist opens the desk, sees the
prescription waiting, opens it and approves it; the patient then sees it approved on their
visit page. (The doctor prescribing from the call page is test_prescribe_browser.py.)"""

from __future__ import annotations

import pytest
from litestar import Litestar
from playwright.async_api import expect

from medmarket.prescriptions.tests.helpers import prescribe, visit_in_progress
from medmarket.prescriptions.tests.review_helpers import reviewing_pharmacy
from medmarket.tests.support.browser import LiveServer, NewPage, horizontal_overflow

pytestmark = pytest.mark.browser


async def test_the_pharmacist_approves_on_the_desk_and_the_patient_sees_it(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    visit = await visit_in_progress(app)
    own = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    issued = await prescribe(app, visit)

    page = await new_page(width=375)
    await live_server.sign_in(page.context, own.pharmacist)
    await page.goto(live_server.url + "/account")
    await page.get_by_role("link", name="审方工作台").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("处方审核工作台")
    card = page.locator(f'[data-prescription="{issued["id"]}"]')
    await expect(card.locator("[data-waiting]")).to_contain_text("已等待")
    assert await horizontal_overflow(page) == 0
    await card.get_by_role("link", name=issued["diagnosis"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("审核处方")
    await expect(page.locator("[data-standing]")).to_have_text("待审核")
    await expect(page.get_by_text("氨氯地平").first).to_be_visible()
    assert await horizontal_overflow(page) == 0
    await page.get_by_role("button", name="审核通过").click()
    await expect(page.get_by_role("status").first).to_contain_text("处方已审核通过")
    await expect(page.locator(f'[data-prescription="{issued["id"]}"]')).to_have_count(0)

    patient_page = await new_page(width=375)
    await live_server.sign_in(patient_page.context, visit.patient.account)
    await patient_page.goto(f"{live_server.url}/visits/{visit.booking_id}")
    listed = patient_page.locator(f'#prescriptions [data-prescription="{issued["id"]}"]')
    await expect(listed.locator("[data-standing]")).to_have_text("已审核通过")
    assert await horizontal_overflow(patient_page) == 0
    seen = await patient_page.context.request.get(
        f"{live_server.url}/api/prescriptions/{issued['id']}"
    )
    assert seen.status == 200
    body = await seen.json()
    assert (body["status"], body["standing"]) == ("approved", "approved")
