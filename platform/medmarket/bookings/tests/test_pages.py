"""Patients' booking pages over HTTP: book a time citing the earlier diagnosis, my visits,
a visit with its hold, cancelling with the refund shown first, reviewing afterwards."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
from litestar import Litestar

from medmarket.tests.support.factories import PDF_BYTES, platform_day
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.pages import (
    HTML,
    browser_session,
    checked,
    csrf_of,
    error_beside,
    field_value,
    get_page,
    post_form,
    text_of,
)
from medmarket.tests.support.seed import (
    Doctor,
    approved_doctor,
    complete_visit,
    free_slots,
    pay,
    ready_patient,
)

PRIOR = {"institution": "临安区人民医院", "diagnosed_on": "2026-01-10", "diagnosis": "原发性高血压"}


async def slot_after(app: Litestar, doctor: Doctor, hours: float) -> str:
    async with client_for(app) as http:
        slots = await free_slots(http, doctor.id, dt.timedelta(hours=hours))
    return str(slots[0]["id"])


async def booked(app: Litestar, http: httpx.AsyncClient, slot: str, patient_id: str) -> str:
    held = await post_form(http, f"/book/{slot}", {"patient_id": patient_id, **PRIOR})
    assert held.status_code == 303, held.text
    match = re.fullmatch(r"/visits/([0-9a-f-]{36})/pay", held.headers["location"])
    assert match
    return match[1]


async def test_booking_asks_for_the_missing_steps_first(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    doctor = await approved_doctor(app)
    slot = await slot_after(app, doctor, 2)
    await browser_session(client, await sign_up("patient"))
    first = await get_page(client, f"/book/{slot}")
    assert first.status_code == 303
    assert first.headers["location"] == f"/profile?next=%2Fbook%2F{slot}"


async def test_book_a_time_citing_the_earlier_diagnosis(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    doctor = await approved_doctor(app, full_name="赵医生")
    patient = await ready_patient(app, real_name="钱 多多")
    slot = await slot_after(app, doctor, 2)
    await browser_session(client, patient.account)
    page = (await get_page(client, f"/book/{slot}")).text
    assert "赵医生" in page and "¥50.00" in page
    assert checked(page, "patient_id", patient.id)  # the account holder by default

    empty = await post_form(client, f"/book/{slot}", {"patient_id": patient.id})
    assert empty.status_code == 422
    for name in ("institution", "diagnosed_on", "diagnosis"):
        assert error_beside(empty.text, name) == "错误：请填写此项。"

    after_visit = (platform_day() + dt.timedelta(days=30)).isoformat()
    typed = {"patient_id": patient.id, **PRIOR, "diagnosed_on": after_visit}
    wrong = await post_form(client, f"/book/{slot}", typed)
    assert wrong.status_code == 422
    assert error_beside(wrong.text, "diagnosed_on") == (
        "错误：诊断日期应是就诊日期之前的一个有效日期。"
    )
    assert field_value(wrong.text, "institution") == PRIOR["institution"]
    assert field_value(wrong.text, "diagnosis") == PRIOR["diagnosis"]

    booking_id = await booked(app, client, slot, patient.id)
    booking = (await client.get(f"/api/bookings/{booking_id}")).json()
    assert booking["status"] == "held"
    assert booking["prior_diagnosis"]["institution"] == PRIOR["institution"]

    visit = text_of((await get_page(client, f"/visits/{booking_id}")).text)
    assert "待支付" in visit and "保留时间还剩" in visit and "临安区人民医院" in visit
    listing = text_of((await get_page(client, "/visits")).text)
    assert "赵医生" in listing and "就诊人：钱 多多" in listing


async def test_a_time_someone_else_holds_is_refused_with_the_form_kept(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    doctor = await approved_doctor(app)
    first, second = await ready_patient(app), await ready_patient(app)
    slot = await slot_after(app, doctor, 2)
    await browser_session(client, first.account)
    await booked(app, client, slot, first.id)
    async with client_for(app) as other:
        await browser_session(other, second.account)
        shown = await get_page(other, f"/book/{slot}")
        assert shown.status_code == 409 and "这个时间已经被约走了" in shown.text
        late = await post_form(
            other, f"/book/{slot}", {"patient_id": second.id, **PRIOR}, from_page="/visits"
        )
    assert late.status_code == 409
    assert "这个时间刚刚被别人约走了" in late.text


async def test_cancelling_shows_the_refund_the_policy_gives_before_confirming(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    doctor = await approved_doctor(
        app, price_fen=8000, late_cancel_refund_percent=30, publish_days=5
    )
    patient = await ready_patient(app)
    await browser_session(client, patient.account)
    soon = await booked(app, client, await slot_after(app, doctor, 2), patient.id)
    later = await booked(app, client, await slot_after(app, doctor, 30), patient.id)
    held = await booked(app, client, await slot_after(app, doctor, 50), patient.id)
    await pay(app, patient, soon)
    await pay(app, patient, later)

    late_terms = text_of((await get_page(client, f"/visits/{soon}/cancel")).text)
    assert "取消后将退还 ¥24.00（诊费的 30%）" in late_terms
    free_terms = text_of((await get_page(client, f"/visits/{later}/cancel")).text)
    assert "取消后将退还 ¥80.00（诊费的 100%）" in free_terms
    unpaid = text_of((await get_page(client, f"/visits/{held}/cancel")).text)
    assert "还没有支付" in unpaid

    done = await post_form(
        client, f"/visits/{soon}/cancel", {"reason": "临时有事"}, from_page=f"/visits/{soon}"
    )
    assert done.status_code == 303 and done.headers["location"] == f"/visits/{soon}?done=cancelled"
    after = text_of((await get_page(client, done.headers["location"])).text)
    assert "预约已取消" in after and "将退还 ¥24.00（30%）" in after
    booking = (await client.get(f"/api/bookings/{soon}")).json()
    assert booking["status"] == "cancelled" and booking["refund_percent"] == 30
    again = text_of((await get_page(client, f"/visits/{soon}/cancel")).text)
    assert "已经不能取消" in again


async def test_a_completed_visit_is_reviewed_once(app: Litestar, client: httpx.AsyncClient) -> None:
    doctor = await approved_doctor(app)
    patient = await ready_patient(app, real_name="孙 悟")
    await browser_session(client, patient.account)
    booking_id = await booked(app, client, await slot_after(app, doctor, 3), patient.id)
    await pay(app, patient, booking_id)
    await complete_visit(app, patient, doctor, booking_id)
    page = (await get_page(client, f"/visits/{booking_id}")).text
    assert "评价这次就诊" in page and checked(page, "rating", "5")
    sent = await post_form(
        client,
        f"/visits/{booking_id}/review",
        {"rating": "4", "body": "耐心细致"},
        from_page=f"/visits/{booking_id}",
    )
    assert sent.status_code == 303
    reviewed = (await get_page(client, sent.headers["location"])).text
    assert f'action="/visits/{booking_id}/review"' not in reviewed  # once only
    shown = text_of(reviewed)
    assert "感谢您的评价" in shown and "耐心细致" in shown
    twice = await post_form(
        client, f"/visits/{booking_id}/review", {"rating": "1"}, from_page="/visits"
    )
    assert twice.status_code == 409
    profile = text_of((await get_page(client, f"/doctors/{doctor.id}")).text)
    assert "耐心细致" in profile and "孙*" in profile


async def test_other_peoples_visits_are_not_found(app: Litestar, client: httpx.AsyncClient) -> None:
    doctor = await approved_doctor(app)
    owner, stranger = await ready_patient(app), await ready_patient(app)
    await browser_session(client, owner.account)
    booking_id = await booked(app, client, await slot_after(app, doctor, 2), owner.id)
    async with client_for(app) as other:
        await browser_session(other, stranger.account)
        for path in (f"/visits/{booking_id}", f"/visits/{booking_id}/cancel"):
            assert (await get_page(other, path)).status_code == 404
        refused = await post_form(
            other, f"/visits/{booking_id}/cancel", {"reason": ""}, from_page="/visits"
        )
        assert refused.status_code == 404


async def test_the_earlier_diagnosis_may_come_with_its_document(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    doctor = await approved_doctor(app)
    patient = await ready_patient(app)
    await browser_session(client, patient.account)
    slot = await slot_after(app, doctor, 2)
    page = (await get_page(client, f"/book/{slot}")).text
    fields = {"_csrf": csrf_of(page), "patient_id": patient.id, **PRIOR}
    wrong = await client.post(
        f"/book/{slot}",
        data=fields,
        files={"document": ("scan.pdf", b"plain text, not a scan")},
        headers=HTML,
    )
    assert wrong.status_code == 415
    assert error_beside(wrong.text, "document") == (
        "错误：这个文件不是 PDF、JPG 或 PNG（按文件内容判断，与文件名无关）。"
    )
    assert field_value(wrong.text, "diagnosis") == PRIOR["diagnosis"]  # kept
    held = await client.post(
        f"/book/{slot}", data=fields, files={"document": ("scan.pdf", PDF_BYTES)}, headers=HTML
    )
    assert held.status_code == 303, held.text
    booking_id = held.headers["location"].split("/")[2]
    booking = (await client.get(f"/api/bookings/{booking_id}")).json()
    document_id = booking["prior_diagnosis"]["document_id"]
    assert document_id
    async with client_for(app) as as_doctor:
        readable = await as_doctor.get(
            f"/api/patient-documents/{document_id}", headers=doctor.headers
        )
    assert readable.status_code == 200 and readable.content == PDF_BYTES
