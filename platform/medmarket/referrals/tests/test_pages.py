"""The referral pages over HTTP (the browser test walks the patient's phone): the patient
reads where, when (in their zone), the green-channel ticket and what to bring, in Chinese
and in English, and agrees from the page; the doctor refers from the form, an emergency
without advice told beside its field; the hospital's admin records a down-referral and the
doctor's queue shows it; nobody else gets any of these pages."""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo
from typing import Any

from litestar import Litestar

from medmarket.pages.formatting import Formatter
from medmarket.referrals.tests.helpers import (
    DETAILS,
    audit_actions,
    consent,
    deliver_outbox,
    ok,
    read,
    receiving_hospital,
    refer,
    referred_and_sent,
    visit_under_way,
)
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.pages import (
    browser_session,
    error_beside,
    field_value,
    get_page,
    post_form,
    text_of,
)
from medmarket.tests.support.seed import approved_doctor, ready_patient

SUMMARY = "冠脉造影示前降支狭窄 80%，已植入支架 1 枚。"
FOLLOW_UP = "1 个月后复查血脂、肝功能。"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


async def shared_file(app: Litestar, visit: Any, name: str) -> str:
    """A file the patient shares in the visit (a PNG): its id."""
    async with client_for(app) as http:
        response = await http.post(
            visit.path + "/attachments",
            headers=visit.patient.headers,
            files={"file": (name, io.BytesIO(PNG), "application/octet-stream")},
        )
    assert response.status_code == 201, response.text
    shared: str = response.json()["attachment"]["id"]
    return shared


def shown_time(page: str) -> dt.datetime:
    found = re.search(r'<time datetime="([^"]+)" data-when>', page)
    assert found, "the appointment's time is shown"
    return dt.datetime.fromisoformat(found[1])


async def test_the_patient_reads_where_when_and_the_ticket_in_chinese(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await referred_and_sent(app, visit, hospital)
    appointment = referral["appointment"]
    async with client_for(app) as http:
        await browser_session(http, visit.patient.account)
        listing = await get_page(http, "/referrals")
        assert listing.status_code == 200
        assert f'href="/referrals/{referral["id"]}"' in listing.text
        visit_page = await get_page(http, f"/visits/{visit.booking_id}")
        assert f'href="/referrals/{referral["id"]}"' in visit_page.text, "linked from the visit"
        assert hospital.name in text_of(listing.text)

        page = await get_page(http, f"/referrals/{referral['id']}")
        assert page.status_code == 200
        text = text_of(page.text)
        assert appointment["place"] in text and "心内科" in text
        ticket = re.search(r"data-ticket-number>([^<]+)<", page.text)
        assert ticket and ticket[1] == appointment["ticket"]
        assert "出示此号码，免挂号直接就诊" in text
        for item in ("身份证", "医保卡", "以前的检查报告和影像资料", "正在服用的药物"):
            assert item in text
        assert "请空腹" in text, "the hospital's own instructions follow the platform's list"
        # In the patient's zone (the default, China), to the minute of the hospital's answer.
        when = shown_time(page.text)
        starts = dt.datetime.fromisoformat(appointment["starts_at"])
        assert when == starts and when.utcoffset() == dt.timedelta(hours=8)
        formatter = Formatter("zh-CN", "Asia/Shanghai")
        assert text_of(formatter.datetime(starts)) in text
        assert "已安排就诊" in text and "/consent" not in page.text
        assert f'action="/referrals/{referral["id"]}/cancel"' in page.text


async def test_the_patient_reads_it_in_english_in_their_own_zone(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await referred_and_sent(app, visit, hospital)
    await ok(app, "PATCH", "/api/me", visit.patient, {"locale": "en", "time_zone": "Europe/Berlin"})
    async with client_for(app) as http:
        await browser_session(http, visit.patient.account)
        page = await get_page(http, f"/referrals/{referral['id']}")
        assert '<html lang="en">' in page.text
        text = text_of(page.text)
        assert "Show this at the department: no registration needed" in text
        assert referral["appointment"]["ticket"] in text
        for item in ("Your ID card", "medical insurance card", "Earlier reports and images"):
            assert item in text
        when = shown_time(page.text)
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
        starts = dt.datetime.fromisoformat(referral["appointment"]["starts_at"])
        assert when.utcoffset() == starts.astimezone(berlin).utcoffset() != dt.timedelta(hours=8)
        assert text_of(Formatter("en", "Europe/Berlin").datetime(starts)) in text


async def test_the_patient_agrees_from_the_page_and_it_goes_to_the_hospital(
    app: Litestar,
) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await refer(app, visit, hospital)
    path = f"/referrals/{referral['id']}"
    async with client_for(app) as http:
        await browser_session(http, visit.patient.account)
        page = await get_page(http, path)
        text = text_of(page.text)
        assert "我同意将病历分享给该医院" in text and "拒绝转诊" in text
        assert "姓名、出生日期、性别和手机号" in text, "what is shared is said"
        agreed = await post_form(http, f"{path}/consent", {}, from_page=path)
        assert agreed.status_code == 303 and agreed.headers["location"] == f"{path}?done=consented"
        assert (await read(app, visit.patient, referral))["status"] == "pending"
        again = await post_form(http, f"{path}/consent", {}, from_page=path)
        assert again.status_code == 409
        assert "转诊当前的状态不允许这个操作" in text_of(again.text)
        after = text_of((await get_page(http, path)).text)
        assert "我同意将病历分享给该医院" not in after and "等待医院答复" in after
        # The timeline, newest first, says what happened and who said so.
        assert after.index("患者同意分享病历，发送给医院 · 患者") < after.index(
            "医生发出转诊，请患者同意 · 医生"
        )
    async with client_for(app) as http:
        await browser_session(http, visit.doctor.account)
        waiting = text_of((await get_page(http, f"/doctor/referrals/{referral['id']}")).text)
        assert "医院尚未答复，我们会继续尝试发送。" in waiting
    await deliver_outbox(app)
    assert (await read(app, visit.patient, referral))["status"] == "accepted"
    async with client_for(app) as http:
        await browser_session(http, visit.doctor.account)
        booked = text_of((await get_page(http, f"/doctor/referrals/{referral['id']}")).text)
        assert "医院尚未答复" not in booked and "已安排就诊" in booked


async def test_the_doctor_cancels_with_a_reason(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await refer(app, visit, hospital)
    path = f"/doctor/referrals/{referral['id']}"
    async with client_for(app) as http:
        await browser_session(http, visit.doctor.account)
        no_reason = await post_form(http, f"{path}/cancel", {"reason": " "}, from_page=path)
        assert no_reason.status_code == 422 and error_beside(no_reason.text, "reason")
        cancelled = await post_form(
            http, f"{path}/cancel", {"reason": "患者改去本地医院"}, from_page=path
        )
        assert cancelled.headers["location"] == f"{path}?done=cancelled"
        after = await get_page(http, path)
        assert "转诊已取消" in text_of(after.text) and f'action="{path}/cancel"' not in after.text
    assert (await read(app, visit.doctor, referral))["cancel_reason"] == "患者改去本地医院"


async def test_the_patient_may_decline_with_a_word_for_the_doctor(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await refer(app, visit, hospital)
    path = f"/referrals/{referral['id']}"
    async with client_for(app) as http:
        await browser_session(http, visit.patient.account)
        declined = await post_form(
            http, f"{path}/decline", {"decline_reason": "想先在本地医院检查"}, from_page=path
        )
        assert declined.headers["location"] == f"{path}?done=declined"
        after = text_of((await get_page(http, f"{path}?done=declined")).text)
        assert "您已拒绝这次转诊" in after and "想先在本地医院检查" in after
    now = await read(app, visit.doctor, referral)
    assert now["status"] == "declined" and now["timeline"][-1]["note"] == "想先在本地医院检查"


async def test_an_emergency_tells_the_patient_first_and_cancelling_needs_a_reason(
    app: Litestar,
) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    advice = "立即拨打 120，原地休息，不要走动"
    referral = await refer(app, visit, hospital, urgency="emergency", emergency_advice=advice)
    path = f"/referrals/{referral['id']}"
    async with client_for(app) as http:
        await browser_session(http, visit.patient.account)
        page = (await get_page(http, path)).text
        assert page.index("data-emergency-advice") < page.index("<h1>"), "the advice comes first"
        assert advice in text_of(page) and 'href="tel:120"' in page
        await post_form(http, f"{path}/consent", {}, from_page=path)
        no_reason = await post_form(http, f"{path}/cancel", {"reason": ""}, from_page=path)
        assert no_reason.status_code == 422
        assert error_beside(no_reason.text, "reason") == "错误：请写明理由。"
        cancelled = await post_form(
            http, f"{path}/cancel", {"reason": "已在当地急诊就诊"}, from_page=path
        )
        assert cancelled.headers["location"] == f"{path}?done=cancelled"
    now = await read(app, visit.patient, referral)
    assert now["status"] == "cancelled" and now["cancel_reason"] == "已在当地急诊就诊"


async def test_the_doctor_refers_from_the_form(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    ecg = await shared_file(app, visit, "心电图.png")
    form = f"/doctor/visits/{visit.booking_id}/refer"
    async with client_for(app) as http:
        await browser_session(http, visit.doctor.account)
        visit_page = await get_page(http, f"/doctor/visits/{visit.booking_id}")
        assert f'href="{form}"' in visit_page.text
        page = await get_page(http, form)
        assert page.status_code == 200
        target = f"{hospital.id}|心内科"
        assert f'value="{target}"' in page.text and f'value="{hospital.id}|神经内科"' in page.text
        chosen: dict[str, Any] = {
            "target": target,
            "urgency": "emergency",
            "emergency_advice": "",
            "reason": DETAILS["reason"],
            "clinical_summary": DETAILS["clinical_summary"],
        }
        no_advice = await post_form(http, form, chosen)
        assert no_advice.status_code == 422
        assert "患者现在要做什么" in (error_beside(no_advice.text, "emergency_advice") or "")
        assert field_value(no_advice.text, "reason") == DETAILS["reason"], "what was typed is kept"
        assert field_value(no_advice.text, "target") == target
        assert await ok(app, "GET", "/api/referrals", visit.doctor) == []

        assert f'name="attachment_ids" value="{ecg}"' in page.text, "the visit's files offered"
        with_file = [*{**chosen, "emergency_advice": "立即拨打 120"}.items()]
        sent = await post_form(http, form, [*with_file, ("attachment_ids", ecg)])
        assert sent.status_code == 303
        [referral] = await ok(app, "GET", "/api/referrals", visit.doctor)
        assert sent.headers["location"] == f"/doctor/referrals/{referral['id']}?done=referred"
        assert referral["status"] == "awaiting_consent" and referral["urgency"] == "emergency"
        assert referral["hospital"]["id"] == hospital.id and referral["department"] == "心内科"
        sent_files = (await read(app, visit.doctor, referral))["attachments"]
        assert [f["id"] for f in sent_files] == [ecg]
        again = await post_form(http, form, {**chosen, "emergency_advice": "立即拨打 120"})
        assert again.headers["location"] == f"/doctor/referrals/{referral['id']}"

        mine = text_of((await get_page(http, "/doctor/referrals")).text)
        assert hospital.name in mine and "待患者同意" in mine
        detail = text_of((await get_page(http, f"/doctor/referrals/{referral['id']}")).text)
        assert "等待患者同意分享病历" in detail and DETAILS["clinical_summary"] in detail
        assert "心电图.png" in detail
    async with client_for(app) as http:
        await browser_session(http, visit.patient.account)
        asked = text_of((await get_page(http, f"/referrals/{referral['id']}")).text)
        assert "医生选择的 1 个文件：心电图.png" in asked, "the patient is told which files go"


async def test_a_department_must_be_chosen(app: Litestar) -> None:
    visit = await visit_under_way(app)
    await receiving_hospital(app)
    form = f"/doctor/visits/{visit.booking_id}/refer"
    async with client_for(app) as http:
        await browser_session(http, visit.doctor.account)
        refused = await post_form(http, form, {"urgency": "routine", "reason": "", "target": ""})
        assert refused.status_code == 422
        assert error_beside(refused.text, "target") == "错误：请选择医院和科室。"
        assert error_beside(refused.text, "clinical_summary") == "错误：请填写病情摘要。"


async def test_the_hospital_sends_the_patient_back_and_the_doctor_takes_them_on(
    app: Litestar,
) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await referred_and_sent(app, visit, hospital)
    path = f"/hospital/referrals/{referral['id']}"
    async with client_for(app) as http:
        await browser_session(http, hospital.admin)
        listing = await get_page(http, "/hospital/referrals")
        assert f'href="{path}"' in listing.text
        current = re.findall(r'<a href="([^"]+)" aria-current="page"', listing.text)
        assert current == ["/hospital/referrals"], "the nav marks this page only"
        page = await get_page(http, path)
        text = text_of(page.text)
        assert DETAILS["clinical_summary"] in text and DETAILS["reason"] in text
        assert "出生日期" in text and "手机号" in text
        assert "referral.read" in await audit_actions(app, referral["id"])  # the record, read
        no_summary = await post_form(
            http, f"{path}/outcome", {"result": "referred_back"}, from_page=path
        )
        assert no_summary.status_code == 422
        assert error_beside(no_summary.text, "summary") == "错误：转回随访需要填写出院小结。"
        back = {"result": "referred_back", "summary": SUMMARY, "follow_up": FOLLOW_UP}
        recorded = await post_form(http, f"{path}/outcome", back, from_page=path)
        assert recorded.headers["location"] == f"{path}?done=recorded"
    assert (await read(app, visit.doctor, referral))["status"] == "referred_back"

    async with client_for(app) as http:
        await browser_session(http, visit.doctor.account)
        queue = await get_page(http, "/doctor/down-referrals")
        text = text_of(queue.text)
        assert SUMMARY in text and FOLLOW_UP in text and hospital.name in text
        [down] = await ok(app, "GET", "/api/down-referrals", visit.doctor)
        taken = await post_form(
            http,
            f"/doctor/down-referrals/{down['id']}/acknowledge",
            {},
            from_page="/doctor/down-referrals",
        )
        assert taken.status_code == 303
        after = (await get_page(http, "/doctor/down-referrals")).text
        assert 'data-down-status="acknowledged"' in after
        assert "/acknowledge" not in after and "已接收" in text_of(after)
    assert (await ok(app, "GET", "/api/down-referrals", visit.doctor))[0][
        "status"
    ] == "acknowledged"

    async with client_for(app) as http:
        await browser_session(http, visit.patient.account)
        seen = text_of((await get_page(http, f"/referrals/{referral['id']}")).text)
        assert SUMMARY in seen and "已转回随访" in seen


async def test_nobody_else_gets_a_referral_page(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await refer(app, visit, hospital)
    await consent(app, visit, referral)
    await deliver_outbox(app)
    stranger = await ready_patient(app)
    other_doctor = await approved_doctor(app)
    other_hospital = await receiving_hospital(app)
    rid = referral["id"]
    async with client_for(app) as http:
        await browser_session(http, stranger.account)
        assert (await get_page(http, f"/referrals/{rid}")).status_code == 404
        consented = await post_form(
            http, f"/referrals/{rid}/cancel", {"reason": "不要了"}, from_page="/referrals"
        )
        assert consented.status_code == 404
    async with client_for(app) as http:
        await browser_session(http, other_doctor.account)
        for path in (
            f"/doctor/referrals/{rid}",
            f"/doctor/referrals/{rid}/complete",
            f"/doctor/visits/{visit.booking_id}/refer",
        ):
            assert (await get_page(http, path)).status_code == 404, path
        refused = await post_form(
            http,
            f"/doctor/referrals/{rid}/cancel",
            {"reason": "不要了"},
            from_page="/doctor/referrals",
        )
        assert refused.status_code == 404
    async with client_for(app) as http:
        await browser_session(http, other_hospital.admin)
        assert (await get_page(http, f"/hospital/referrals/{rid}")).status_code == 404
        outcome = await post_form(
            http,
            f"/hospital/referrals/{rid}/outcome",
            {"result": "seen"},
            from_page="/hospital/referrals",
        )
        assert outcome.status_code == 404
        assert rid not in (await get_page(http, "/hospital/referrals")).text
    assert (await read(app, visit.patient, referral))["status"] == "accepted"


async def test_the_doctor_completes_the_platforms_draft_from_the_same_form(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    note = "首诊：胸痛待查，需线下冠脉造影"
    end = {"outcome": "first_visit_unsuitable", "note": note}
    await ok(app, "POST", visit.path + "/end", visit.doctor, end)
    await deliver_outbox(app)
    [draft] = await ok(app, "GET", "/api/referrals", visit.doctor)
    form = f"/doctor/referrals/{draft['id']}/complete"
    async with client_for(app) as http:
        await browser_session(http, visit.doctor.account)
        listing = await get_page(http, "/doctor/referrals")
        assert f'href="{form}"' in listing.text and "待补全的转诊单" in text_of(listing.text)
        assert (await get_page(http, f"/doctor/referrals/{draft['id']}")).headers[
            "location"
        ] == form
        page = await get_page(http, form)
        assert field_value(page.text, "reason") == note, "the draft's reason is filled in"
        body = {
            "target": f"{hospital.id}|心内科",
            "urgency": "urgent",
            "reason": note,
            "clinical_summary": DETAILS["clinical_summary"],
        }
        sent = await post_form(http, form, body)
        assert sent.headers["location"] == f"/doctor/referrals/{draft['id']}?done=referred"
    now = await read(app, visit.doctor, draft)
    assert now["status"] == "awaiting_consent" and now["urgency"] == "urgent"
