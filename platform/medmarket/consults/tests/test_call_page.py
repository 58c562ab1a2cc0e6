"""The call page over HTTP: its participants get it (with what the script needs), anyone
else the 404 of a consultation that does not exist; the visit pages lead to it."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from litestar import Litestar

from medmarket.consults.tests.helpers import booked_visit
from medmarket.testing.fixtures import Account, client_for
from medmarket.testing.pages import browser_session, get_page, text_of
from medmarket.testing.seed import ready_patient


def script_data(page: str) -> dict[str, str]:
    tag = re.search(r"<div class=\"call\" data-call(.*?)>", page, re.S)
    assert tag, "the call's element"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag[1]))


async def test_the_patient_and_the_doctor_open_the_call(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    visit = await booked_visit(app)
    await browser_session(client, visit.patient.account)
    detail = (await get_page(client, f"/visits/{visit.booking_id}")).text
    assert f'href="/call/{visit.consultation_id}"' in detail and "进入候诊室" in detail
    page = (await get_page(client, f"/call/{visit.consultation_id}")).text
    data = script_data(page)
    assert data["consultation"] == visit.consultation_id and data["role"] == "patient"
    assert data["back-url"] == f"/visits/{visit.booking_id}"
    assert data["time-zone"] == "Asia/Shanghai"
    messages = json.loads(data["messages"].replace("&#34;", '"'))
    assert messages["waiting_doctor"].startswith("您已进入候诊室")
    assert "结束问诊" not in text_of(page)  # the doctor's tools are the doctor's
    assert 'src="/static/js/call.js' in page

    async with client_for(app) as as_doctor:
        await browser_session(as_doctor, visit.doctor.account)
        day = (await get_page(as_doctor, "/doctor/today")).text
        assert f'href="/call/{visit.consultation_id}"' in day
        room = (await get_page(as_doctor, f"/call/{visit.consultation_id}")).text
    assert script_data(room)["role"] == "doctor" and "请患者进入" in room and "结束问诊" in room


async def test_nobody_else_opens_the_call(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    visit = await booked_visit(app)
    stranger = await ready_patient(app)
    await browser_session(client, stranger.account)
    refused = await get_page(client, f"/call/{visit.consultation_id}")
    assert refused.status_code == 404 and "找不到这个页面" in refused.text
    operator: Account = await sign_up("operator")
    async with client_for(app) as staff:
        await browser_session(staff, operator)
        assert (await get_page(staff, f"/call/{visit.consultation_id}")).status_code == 403
