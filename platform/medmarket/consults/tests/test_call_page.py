"""The call page over HTTP: its participants get it (with what the script needs), anyone
else the 404 of a consultation that does not exist; the visit pages lead to it. An invited
colleague gets it as a guest (who takes part, no doctor's tools); the doctor invites and
removes colleagues with forms that work without script."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket.consults.pages import colleague_doctor_id
from medmarket.consults.tests.helpers import booked_visit, ok
from medmarket.errors import InvalidInput
from medmarket.signaling.messages import CloseCode
from medmarket.tests.support.fixtures import Account, client_for
from medmarket.tests.support.pages import (
    browser_session,
    error_beside,
    field_value,
    get_page,
    post_form,
    text_of,
)
from medmarket.tests.support.seed import approved_doctor, ready_patient


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
    # The socket's close codes come from the server's one list, not from the script.
    codes = json.loads(data["close-codes"].replace("&#34;", '"'))
    assert codes == {code.name: int(code) for code in CloseCode}
    assert "结束问诊" not in text_of(page)  # the doctor's tools are the doctor's
    assert 'src="/static/js/call.js' in page

    async with client_for(app) as as_doctor:
        await browser_session(as_doctor, visit.doctor.account)
        day = (await get_page(as_doctor, "/doctor/today")).text
        assert f'href="/call/{visit.consultation_id}"' in day
        room = (await get_page(as_doctor, f"/call/{visit.consultation_id}")).text
    assert script_data(room)["role"] == "doctor" and "请患者进入" in room and "结束问诊" in room
    # Each way the API refuses to end the visit is worded in the page's language.
    words = json.loads(script_data(room)["messages"].replace("&#34;", '"'))
    assert words["too-early"] == "就诊开始 10 分钟后才能记为患者未到。"
    for code in ("not-started", "patient-attended", "patient-present"):
        assert words[code] and not words[code].isascii()


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


def roster(page: str) -> list[str]:
    """Who the page lists as taking part, each as its visible text."""
    listing = re.search(r"<ul[^>]*data-roster[^>]*>(.*?)</ul>", page, re.S)
    assert listing, "the list of people"
    return [text_of(item) for item in re.findall(r"<li.*?</li>", listing[1], re.S)]


def test_a_colleague_is_named_by_their_id_or_the_link_to_their_page() -> None:
    doctor_id = "6f1c2a9e-0b7d-4e8a-9c3f-2d5e7a1b4c6d"
    assert str(colleague_doctor_id(doctor_id)) == doctor_id
    assert str(colleague_doctor_id(f"  {doctor_id.upper()} ")) == doctor_id
    link = f"https://medmarket.cn/doctors/{doctor_id}?from=search"
    assert str(colleague_doctor_id(link)) == doctor_id
    for typed, code in (("", "required"), ("赵医生", "invalid"), (doctor_id + "0", "invalid")):
        with pytest.raises(InvalidInput) as refused:
            colleague_doctor_id(typed)
        assert [(e.field, e.code) for e in refused.value.errors] == [("colleague", code)]


async def test_the_doctor_invites_and_removes_a_colleague_without_script(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    visit = await booked_visit(app)
    colleague = await approved_doctor(app, full_name="赵 心怡", publish_days=None)
    call = f"/call/{visit.consultation_id}"
    invite = f"{call}/colleagues"
    await browser_session(client, visit.doctor.account)
    page = (await get_page(client, call)).text
    assert "邀请同事会诊" in page and f'action="{invite}"' in page
    patient, doctor = roster(page)
    assert patient == "王 小明 患者 不在诊室" and doctor.endswith("（我） 医生 不在诊室")

    # What cannot be invited is said beside the field, and what was typed stays.
    for typed, status, error in (
        ("", 422, "请填写同事的医生编号或医生主页链接。"),
        ("赵医生", 422, "这不是医生编号，也不是医生主页的链接。"),
        (visit.doctor.id, 422, "您就是本次问诊的医生，不用邀请自己。"),
        (str(visit.patient.id), 404, "找不到这位医生：只能邀请已通过审核的医生。"),
    ):
        refused = await post_form(client, invite, {"colleague": typed}, from_page=call)
        assert refused.status_code == status, typed
        assert error_beside(refused.text, "colleague") == f"错误：{error}"
        assert field_value(refused.text, "colleague") == typed

    invited = await post_form(
        client,
        invite,
        {"colleague": f"https://medmarket.cn/doctors/{colleague.id}"},
        from_page=call,
    )
    assert invited.status_code == 303
    assert invited.headers["location"] == f"{call}?done=invited#people"
    page = (await get_page(client, f"{call}?done=invited")).text
    assert "已邀请同事，对方会收到通知。" in text_of(page)
    assert any("赵 心怡" in who and "会诊医生" in who for who in roster(page))
    listed = await ok(app, "GET", visit.path + "/colleagues", visit.doctor)
    assert [(c["doctor_id"], c["removed_at"]) for c in listed] == [(colleague.id, None)]

    # The colleague finds the invitation on their day and opens the call as a guest:
    # everyone listed, no doctor's tools.
    async with client_for(app) as as_colleague:
        await browser_session(as_colleague, colleague.account)
        day = (await get_page(as_colleague, "/doctor/today")).text
        invitation = re.search(r"<section[^>]*data-invitations.*?</section>", day, re.S)
        assert invitation and f'href="{call}"' in invitation[0]
        assert "王 小明" in text_of(invitation[0]) and "邀请您会诊" in text_of(invitation[0])
        room = (await get_page(as_colleague, call)).text
        assert script_data(room)["role"] == "guest"
        assert "赵 心怡（我）" in " ".join(roster(room)) and len(roster(room)) == 3
        assert "请患者进入" not in room and "结束问诊" not in text_of(room)
        assert "邀请同事会诊" not in room and "/remove" not in room

        removed = await post_form(client, f"{invite}/{colleague.id}/remove", {}, from_page=call)
        assert removed.status_code == 303
        assert removed.headers["location"] == f"{call}?done=removed#people"
        page = (await get_page(client, f"{call}?done=removed")).text
        assert "已请这位同事离开本次问诊。" in text_of(page)
        assert not any("赵 心怡" in who for who in roster(page))
        assert (await get_page(as_colleague, call)).status_code == 404


async def test_only_the_doctor_invites(app: Litestar, client: httpx.AsyncClient) -> None:
    visit = await booked_visit(app)
    colleague = await approved_doctor(app, publish_days=None)
    call = f"/call/{visit.consultation_id}"
    await browser_session(client, visit.patient.account)
    page = (await get_page(client, call)).text
    assert "邀请同事会诊" not in page
    refused = await post_form(
        client, f"{call}/colleagues", {"colleague": colleague.id}, from_page=call
    )
    assert refused.status_code == 403
    assert await ok(app, "GET", visit.path + "/colleagues", visit.doctor) == []


def test_the_call_scripts_hold_no_close_code_of_their_own() -> None:
    scripts = Path(__file__).resolve().parents[4] / "web" / "static" / "js"
    for script in scripts.glob("call*.js"):
        numbers = {int(n) for n in re.findall(r"\b(\d{4})\b", script.read_text())}
        assert not numbers & {int(code) for code in CloseCode if code >= 4000}, script.name
