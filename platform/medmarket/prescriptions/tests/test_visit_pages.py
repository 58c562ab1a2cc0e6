"""Prescriptions on the visit pages: the patient's lists what was prescribed, with its standing
and the printable page; the doctor's offers prescribing while the visit is one to prescribe
in (the call page too), and lists what was issued."""

from __future__ import annotations

from litestar import Litestar

from medmarket.consults.tests.helpers import booked_visit
from medmarket.prescriptions.tests.test_print import issued
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.pages import browser_session, get_page, text_of


async def test_the_patient_sees_the_prescription_on_their_visit_page(app: Litestar) -> None:
    visit, written = await issued(app)
    async with client_for(app) as http:
        await browser_session(http, visit.patient.account)
        page = (await get_page(http, f"/visits/{visit.booking_id}")).text
    text = text_of(page)
    assert "处方" in text and "原发性高血压 2 级" in text and "待药师审核" in text
    assert f'href="/prescriptions/{written["id"]}/print"' in page


async def test_the_doctor_prescribes_from_the_visit_page_while_they_may(app: Litestar) -> None:
    visit, written = await issued(app)
    async with client_for(app) as http:
        await browser_session(http, visit.doctor.account)
        page = (await get_page(http, f"/doctor/visits/{visit.booking_id}")).text
        assert "data-prescribe" in page and "js/prescribe.js" in page
        assert f'href="/prescriptions/{written["id"]}/print"' in page
        call_page = (await get_page(http, f"/call/{visit.consultation_id}")).text
        assert "data-prescribe" in call_page and "开处方" in call_page
    # Before the patient is admitted there is nothing to prescribe in yet: no form.
    waiting = await booked_visit(app, doctor=visit.doctor, starts_in=None)
    async with client_for(app) as http:
        await browser_session(http, visit.doctor.account)
        page = (await get_page(http, f"/doctor/visits/{waiting.booking_id}")).text
    assert "data-prescribe" not in page and "js/prescribe.js" not in page
