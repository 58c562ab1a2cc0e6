"""A multi-disciplinary call in real Chromium. The doctor invites a colleague from the call
page, who finds the invitation on their day; the patient, the doctor and the colleague each
receive both others' video (one connection per pair: the bytes received from each grow),
each shown in a tile named after them, at 375 px too. The provider's media profile bounds
the camera and what is sent. The colleague switches camera and both others get the new one.
A network drop reconnects every pair. The doctor removes the colleague, whose video stops
everywhere, and ends the visit as a first visit not suitable online."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from litestar import Litestar
from playwright.async_api import Page, Route, WebSocketRoute, expect

from medmarket.consults.tests.helpers import booked_visit, ok
from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.browser_steps import call_media, video_flows_from
from medmarket.tests.support.seed import approved_doctor

pytestmark = pytest.mark.browser

CONNECTED = 30_000
# What a provider might hand a patient on a poor network (video/interface.py MediaProfile).
SMALL = {
    "name": "test-small",
    "max_video_kbps": 250,
    "max_width": 320,
    "max_height": 240,
    "max_framerate": 10,
    "audio_kbps": 24,
}


async def small_profile(route: Route) -> None:
    """The real video setup, with the small media profile instead of the provider's."""
    response = await route.fetch()
    body = await response.json()
    body["media_profile"] = SMALL
    await route.fulfill(response=response, json=body)


def sent(media: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The senders of one kind, by the participant they send to."""
    return {sender["peer"]: sender for sender in media["senders"] if sender["kind"] == kind}


def captured(media: dict[str, Any], kind: str) -> dict[str, Any]:
    track: dict[str, Any]
    (track,) = [track for track in media["local"] if track["kind"] == kind]
    return track


async def sent_cameras(page: Page) -> tuple[str, dict[str, str]]:
    """The camera captured now, and the camera each other participant is sent."""
    media = await call_media(page)
    cameras = {peer: sender["deviceId"] for peer, sender in sent(media, "video").items()}
    return captured(media, "video")["deviceId"], cameras


async def test_a_doctor_a_colleague_and_the_patient_see_each_other(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    visit = await booked_visit(app, doctor=await approved_doctor(app, full_name="李 文华"))
    colleague = await approved_doctor(
        app, full_name="赵 心怡", specialties=("超声科",), publish_days=None
    )
    ids = {
        "patient": visit.patient.account.id,
        "doctor": visit.doctor.account.id,
        "guest": colleague.account.id,
    }
    call_url = f"{live_server.url}/call/{visit.consultation_id}"

    # The doctor opens the room and invites the colleague by the link to their page.
    doctor = await new_page()
    await live_server.sign_in(doctor.context, visit.doctor.account)
    await doctor.goto(call_url)
    invite = doctor.get_by_label("邀请同事会诊")
    invite_button = doctor.get_by_role("button", name="邀请", exact=True)
    invite_error = doctor.locator('[data-field="colleague"] .field-error')
    await invite.fill("赵医生")
    await invite_button.click()
    await expect(invite_error).to_have_text("这不是医生编号，也不是医生主页的链接。")
    await invite.fill(visit.doctor.id)
    await invite_button.click()
    await expect(invite_error).to_have_text("您就是本次问诊的医生，不用邀请自己。")
    await invite.fill(f"{live_server.url}/doctors/{colleague.id}")
    await invite_button.click()
    await expect(doctor.locator("[data-invite-status]")).to_have_text(
        "已邀请赵 心怡，对方会收到通知。"
    )
    await expect(invite_error).to_have_count(0)
    guest_row = doctor.locator(f'[data-roster] [data-person="{ids["guest"]}"]')
    await expect(guest_row).to_contain_text("赵 心怡")
    await expect(guest_row).to_contain_text("不在诊室")

    # The patient comes in on a poor network (a small media profile) and is let in.
    patient = await new_page(width=375)
    await live_server.sign_in(patient.context, visit.patient.account)
    await patient.route(re.compile(r"/video/setup$"), small_profile)
    await patient.goto(call_url)
    await expect(patient.locator("[data-call]")).to_have_attribute("data-state", "waiting_doctor")
    await doctor.get_by_role("button", name="请患者进入").click()
    await expect(doctor.locator("[data-call]")).to_have_attribute(
        "data-state", "connected", timeout=CONNECTED
    )

    # The colleague joins the call under way, on a phone with several cameras.
    guest = await new_page(width=375, cameras=3)
    await live_server.sign_in(guest.context, colleague.account)
    sockets: list[WebSocketRoute] = []

    async def network(socket: WebSocketRoute) -> None:
        socket.connect_to_server()
        sockets.append(socket)

    await guest.route_web_socket(re.compile(r"/signal"), network)
    await guest.goto(f"{live_server.url}/doctor/today")
    invitations = guest.locator("[data-invitations]")
    await expect(invitations).to_contain_text("李 文华 邀请您会诊 · 患者：王 小明")
    await invitations.get_by_role("link", name="进入诊室").click()
    await expect(guest).to_have_url(call_url)
    await expect(guest.get_by_role("button", name="请患者进入")).to_have_count(0)
    pages = {"patient": patient, "doctor": doctor, "guest": guest}
    for page in pages.values():
        await expect(page.locator("[data-call]")).to_have_attribute(
            "data-state", "connected", timeout=CONNECTED
        )

    async def everyone_sees_everyone() -> None:
        for me, page in pages.items():
            await video_flows_from(page, *(ids[other] for other in pages if other != me))

    await everyone_sees_everyone()

    # Each other person has a tile named after them; the phone still fits.
    await expect(patient.locator("[data-videos]")).to_have_attribute("data-layout", "grid")
    await expect(patient.locator(".remote-tile")).to_have_count(2)
    await expect(patient.get_by_label("李 文华 的视频")).to_be_visible()
    await expect(patient.get_by_label("赵 心怡 的视频")).to_be_visible()
    await expect(patient.locator(f'[data-peer="{ids["guest"]}"] .tile-label')).to_have_text(
        "赵 心怡 · 会诊医生"
    )
    await expect(guest.locator(f'[data-peer="{ids["patient"]}"] .tile-label')).to_have_text(
        "王 小明 · 患者"
    )
    for person in ids.values():
        await expect(patient.locator(f'[data-roster] [data-person="{person}"]')).to_contain_text(
            "在诊室"
        )
    assert await horizontal_overflow(patient) == 0
    assert await horizontal_overflow(guest) == 0
    await at_widths(guest, "call-three")

    # Chat names who wrote among several doctors.
    await guest.get_by_label("消息").fill("我是超声科赵医生，请把超声报告发上来")
    await guest.keyboard.press("Enter")
    said = patient.locator(".chat-message", has_text="超声报告")
    await expect(said).to_contain_text("赵 心怡 · 会诊医生")

    # The media profile: the patient's camera and sending stay within the small one; the
    # others have the built-in provider's standard profile.
    small = await call_media(patient)
    picture = captured(small, "video")
    assert picture["width"] <= 320 and picture["height"] <= 240 and picture["frameRate"] <= 10
    assert {peer: s["maxBitrate"] for peer, s in sent(small, "video").items()} == {
        ids["doctor"]: 250_000,
        ids["guest"]: 250_000,
    }
    assert {peer: s["maxBitrate"] for peer, s in sent(small, "audio").items()} == {
        ids["doctor"]: 24_000,
        ids["guest"]: 24_000,
    }
    standard = await call_media(doctor)
    assert standard["profile"]["name"] == "standard"
    assert {s["maxBitrate"] for s in sent(standard, "video").values()} == {1_500_000}
    assert {s["maxBitrate"] for s in sent(standard, "audio").values()} == {48_000}
    assert captured(standard, "video")["height"] <= 720

    # The colleague switches camera: both others are sent the next camera. (Chromium's
    # second fake camera is a Y16 depth camera its encoder cannot send: the third is the
    # one whose picture is checked.)
    switch = guest.get_by_role("button", name="切换摄像头")
    await expect(switch).to_be_enabled()
    camera, sending = await sent_cameras(guest)
    assert sending == {ids["patient"]: camera, ids["doctor"]: camera}
    used = [camera]
    for _ in range(2):
        await switch.click()
        for _ in range(40):
            camera, sending = await sent_cameras(guest)
            if camera not in used and set(sending.values()) == {camera}:
                break
            await asyncio.sleep(0.25)
        assert camera not in used and sending == {ids["patient"]: camera, ids["doctor"]: camera}
        used.append(camera)
    await video_flows_from(patient, ids["guest"])
    await video_flows_from(doctor, ids["guest"])

    # A network drop: the colleague's signaling is cut; every pair with them comes back.
    await sockets[-1].close(code=4000, reason="network drop")
    await expect(guest.locator("[data-call]")).to_have_attribute(
        "data-state", "reconnecting", timeout=10_000
    )
    for page in pages.values():
        await expect(page.locator("[data-call]")).to_have_attribute(
            "data-state", "connected", timeout=CONNECTED
        )
    assert len(sockets) >= 2
    await everyone_sees_everyone()

    # The doctor removes the colleague: their video stops on every side.
    await doctor.get_by_role("button", name="请赵 心怡离开本次问诊").click()
    await expect(guest.locator("[data-call]")).to_have_attribute("data-state", "removed")
    for page in (patient, doctor):
        await expect(page.locator(".remote-tile")).to_have_count(1, timeout=10_000)
        await expect(page.locator("[data-videos]")).to_have_attribute("data-layout", "single")
    await expect(doctor.locator(f'[data-roster] [data-person="{ids["guest"]}"]')).to_have_count(0)
    assert (await call_media(guest))["senders"] == []
    await video_flows_from(patient, ids["doctor"])

    # The doctor ends the visit: a first visit not suitable online (refunded in full).
    await doctor.get_by_text("结束问诊").click()
    await doctor.get_by_label("初诊，不适合在线问诊").check()
    await doctor.get_by_label("备注").fill("建议到线下合作医院做心脏超声")
    await doctor.get_by_role("button", name="结束就诊").click()
    await expect(doctor).to_have_url(
        f"{live_server.url}/doctor/visits/{visit.booking_id}?done=ended"
    )
    await expect(patient.locator("[data-call]")).to_have_attribute(
        "data-state", "ended", timeout=10_000
    )
    booking = await ok(app, "GET", f"/api/bookings/{visit.booking_id}", visit.patient)
    assert booking["status"] == "terminated" and booking["refund_percent"] == 100
    assert booking["end_reason"] == "first_visit_unsuitable"
    consultation = await ok(app, "GET", visit.path, visit.patient)
    assert consultation["status"] == "terminated"
