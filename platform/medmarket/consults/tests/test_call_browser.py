"""The call page in real Chromium with fake camera and microphone: the patient waits, the
doctor lets them in, each receives the other's video (bytes received grow), chat and a file
go both ways, mute and camera turn the tracks off, switching needs a second camera, a network
drop reconnects, hang up and rejoin, and the doctor ends the visit. From the call page the
doctor also records a patient who never came in (refused, in the page's language, while the
patient waits in the room)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from litestar import Litestar
from playwright.async_api import Page, WebSocketRoute, expect

from medmarket.consults.tests.helpers import booked_visit, ok
from medmarket.tests.support.browser import LiveServer, NewPage, at_widths, horizontal_overflow
from medmarket.tests.support.browser_steps import call_media, video_flows
from medmarket.tests.support.factories import PNG_BYTES

pytestmark = pytest.mark.browser


async def tracks_enabled(page: Page) -> dict[str, list[bool]]:
    """Whether each kind of track is on: [the captured track, the track sent to the other]."""
    media = await call_media(page)
    found: dict[str, list[bool]] = {}
    for kind in ("audio", "video"):
        local = [track["enabled"] for track in media["local"] if track["kind"] == kind]
        sent = [sender["enabled"] for sender in media["senders"] if sender["kind"] == kind]
        found[kind] = local + sent
    return found


async def camera_count(page: Page) -> int:
    return int(
        await page.evaluate(
            "navigator.mediaDevices.enumerateDevices()"
            ".then(all => all.filter(d => d.kind === 'videoinput').length)"
        )
    )


async def test_a_video_visit_from_the_waiting_room_to_its_end(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    visit = await booked_visit(app)  # paid; it began five minutes ago
    patient = await new_page(width=375)
    await live_server.sign_in(patient.context, visit.patient.account)
    sockets: list[WebSocketRoute] = []

    async def network(socket: WebSocketRoute) -> None:
        socket.connect_to_server()  # everything passes through, until the test cuts it
        sockets.append(socket)

    await patient.route_web_socket(re.compile(r"/signal"), network)
    await patient.goto(f"{live_server.url}/visits/{visit.booking_id}")
    await patient.get_by_role("link", name="进入候诊室").click()
    call = patient.locator("[data-call]")
    await expect(call).to_have_attribute("data-state", "waiting_doctor")
    await expect(patient.get_by_role("status").first).to_contain_text("您已进入候诊室")

    doctor = await new_page()
    await live_server.sign_in(doctor.context, visit.doctor.account)
    await doctor.goto(f"{live_server.url}/doctor/today")
    await expect(doctor.locator("[data-waiting]")).to_have_text("候诊中")
    await doctor.get_by_role("link", name="进入诊室").click()
    await doctor.get_by_role("button", name="请患者进入").click()

    await expect(doctor.locator("[data-call]")).to_have_attribute(
        "data-state", "connected", timeout=20_000
    )
    await expect(call).to_have_attribute("data-state", "connected", timeout=20_000)
    await video_flows(patient)
    await video_flows(doctor)
    assert await horizontal_overflow(patient) == 0
    await at_widths(patient, "call")

    # Chat and a file, both ways.
    await patient.get_by_label("消息").fill("医生您好，最近血压偏高")
    await patient.get_by_role("button", name="发送", exact=True).click()
    await expect(doctor.locator(".chat-message", has_text="最近血压偏高")).to_be_visible()
    await expect(patient.get_by_label("消息")).to_have_value("")
    await doctor.get_by_label("消息").fill("请把最近的化验单发给我")
    await doctor.keyboard.press("Enter")
    await expect(patient.locator(".chat-message", has_text="化验单")).to_be_visible()
    await patient.get_by_label("选择要发送的文件").set_input_files(
        {"name": "report.png", "mimeType": "image/png", "buffer": PNG_BYTES}
    )
    await patient.get_by_role("button", name="发送文件").click()
    await expect(doctor.get_by_role("link", name="report.png")).to_be_visible()
    await patient.get_by_label("选择要发送的文件").set_input_files(
        {"name": "virus.pdf", "mimeType": "application/pdf", "buffer": b"MZ not a pdf"}
    )
    await patient.get_by_role("button", name="发送文件").click()
    await expect(patient.locator('[data-field="file"] .field-error')).to_contain_text("不是 PDF")

    # Controls: mute and camera off turn the tracks themselves off (what is sent too).
    assert await tracks_enabled(patient) == {"audio": [True, True], "video": [True, True]}
    await patient.get_by_role("button", name="静音").click()
    await expect(patient.get_by_role("button", name="取消静音")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert await tracks_enabled(patient) == {"audio": [False, False], "video": [True, True]}
    await patient.get_by_role("button", name="关闭摄像头").click()
    await expect(patient.get_by_role("button", name="打开摄像头")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert await tracks_enabled(patient) == {"audio": [False, False], "video": [False, False]}
    await patient.get_by_role("button", name="打开摄像头").click()
    await patient.get_by_role("button", name="取消静音").click()
    assert await tracks_enabled(patient) == {"audio": [True, True], "video": [True, True]}
    # Chromium's fake device is one camera: there is nothing to switch to.
    assert await camera_count(patient) == 1
    await expect(patient.get_by_role("button", name="切换摄像头")).to_be_hidden()

    # A network drop: the patient's signaling connection is cut; the page reconnects by
    # itself, resumes the room and the call carries on.
    assert sockets, "the page's WebSocket went through the test's network"
    await sockets[-1].close(code=4000, reason="network drop")
    await expect(call).to_have_attribute("data-state", "reconnecting", timeout=10_000)
    await expect(call).to_have_attribute("data-state", "connected", timeout=30_000)
    assert len(sockets) >= 2  # it connected again
    # Resuming or not, the room token travels in the first message, never in the URL.
    assert [socket.url for socket in sockets if "?" in socket.url] == []
    await video_flows(doctor)
    await video_flows(patient)

    # Hang up and rejoin.
    await patient.get_by_role("button", name="挂断").click()
    await expect(call).to_have_attribute("data-state", "left")
    await patient.get_by_role("button", name="重新加入").click()
    await expect(call).to_have_attribute("data-state", "connected", timeout=30_000)
    await video_flows(patient)

    # The doctor writes notes beside the call.
    await doctor.get_by_text("病历记录").click()
    # The notes' fields (the prescribing panel beside them has a diagnosis of its own).
    notes = doctor.locator("[data-notes-form]")
    await notes.get_by_label("诊断").fill("原发性高血压 2 级，控制欠佳")
    await notes.get_by_label("建议").fill("氨氯地平加量，两周后复诊")
    await doctor.get_by_role("button", name="保存记录").click()
    await expect(doctor.locator("[data-notes-status]")).to_have_text("已保存（第 1 版）。")

    # The doctor ends the visit; the patient is told and may review it.
    await at_widths(doctor, "call-doctor")
    await doctor.get_by_text("结束问诊").click()
    await doctor.get_by_label("已完成").check()
    await doctor.get_by_role("button", name="结束就诊").click()
    await expect(doctor).to_have_url(
        f"{live_server.url}/doctor/visits/{visit.booking_id}?done=ended"
    )
    await expect(call).to_have_attribute("data-state", "ended", timeout=10_000)
    await patient.get_by_role("link", name="返回就诊详情").click()
    await patient.get_by_label("★★★★☆ 满意").check()
    await patient.get_by_label("评价内容").fill("视频很清楚，医生很耐心")
    await patient.get_by_role("button", name="提交评价").click()
    await expect(patient.get_by_role("status").first).to_contain_text("感谢您的评价")


async def test_the_doctor_records_from_the_call_that_the_patient_never_came_in(
    app: Litestar, live_server: LiveServer, new_page: NewPage
) -> None:
    visit = await booked_visit(app, starts_in=-dt.timedelta(minutes=11))
    patient = await new_page(width=375)
    await live_server.sign_in(patient.context, visit.patient.account)
    await patient.goto(f"{live_server.url}/call/{visit.consultation_id}")
    await expect(patient.locator("[data-call]")).to_have_attribute("data-state", "waiting_doctor")

    doctor = await new_page()
    await live_server.sign_in(doctor.context, visit.doctor.account)
    await doctor.goto(f"{live_server.url}/call/{visit.consultation_id}")
    waiting = doctor.locator(f'[data-roster] [data-person="{visit.patient.account.id}"]')
    await expect(waiting).to_contain_text("在诊室")
    await doctor.get_by_text("结束问诊").click()
    await doctor.get_by_label("患者未到").check()
    end = doctor.get_by_role("button", name="结束就诊")
    await end.click()
    await expect(doctor.locator('[data-field="outcome"] .field-error')).to_have_text(
        "患者正在诊室中等候，请请患者进入。"
    )

    # The patient goes away without being let in: now they did not come.
    await patient.close()
    await expect(waiting).to_contain_text("不在诊室", timeout=10_000)
    await end.click()
    await expect(doctor).to_have_url(
        f"{live_server.url}/doctor/visits/{visit.booking_id}?done=ended"
    )
    await expect(doctor.get_by_role("status").first).to_contain_text("已记录就诊结果")
    await expect(doctor.locator("main")).to_contain_text("患者未到诊")
    booking = await ok(app, "GET", f"/api/bookings/{visit.booking_id}", visit.patient)
    assert booking["status"] == "no_show" and booking["end_reason"] == "patient_no_show"
    assert booking["refund_percent"] is None
    consultation = await ok(app, "GET", visit.path, visit.patient)
    assert consultation["status"] == "no_show"
