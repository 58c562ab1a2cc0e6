"""Doctors' booking pages over HTTP: the day's queue in the doctor's zone, ending a visit
that has begun, cancelling one with a reason (the patient is refunded in full)."""

from __future__ import annotations

import httpx
from litestar import Litestar

from medmarket.testing.fixtures import client_for
from medmarket.testing.pages import browser_session, error_beside, get_page, post_form, text_of
from medmarket.testing.seed import (
    Doctor,
    Patient,
    approved_doctor,
    begin_visit,
    free_slots,
    hold,
    pay,
    ready_patient,
)


async def book(app: Litestar, patient: Patient, doctor: Doctor, index: int) -> str:
    """A paid visit at the doctor's ``index``-th free time."""
    async with client_for(app) as http:
        slots = await free_slots(http, doctor.id)
        booking = await hold(http, patient, slots[index]["id"])
    await pay(app, patient, booking["id"])
    return str(booking["id"])


async def test_the_day_the_visit_and_its_outcome(app: Litestar, client: httpx.AsyncClient) -> None:
    doctor = await approved_doctor(app)
    patient = await ready_patient(app, real_name="何 平")
    booking_id = await book(app, patient, doctor, 0)
    await begin_visit(app, booking_id)  # it began five minutes ago: today, in any zone
    await browser_session(client, doctor.account)
    day = text_of((await get_page(client, "/doctor/today")).text)
    assert "何 平" in day and "原发性高血压 2 级" in day and "1 个已确认的预约" in day
    page = (await get_page(client, f"/doctor/visits/{booking_id}")).text
    assert "结束就诊" in page and "临安区人民医院" in text_of(page)
    missing = await post_form(
        client,
        f"/doctor/visits/{booking_id}/outcome",
        {"note": "x"},
        from_page=f"/doctor/visits/{booking_id}",
    )
    assert missing.status_code == 422
    assert error_beside(missing.text, "outcome") == "错误：请选择就诊结果。"
    ended = await post_form(
        client,
        f"/doctor/visits/{booking_id}/outcome",
        {"outcome": "completed", "note": "血压控制良好"},
        from_page=f"/doctor/visits/{booking_id}",
    )
    assert ended.status_code == 303
    after = text_of((await get_page(client, ended.headers["location"])).text)
    assert "已记录就诊结果" in after and "已完成" in after and "结束就诊" not in after


async def test_a_doctor_cancels_with_a_reason_and_the_patient_is_refunded(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    doctor = await approved_doctor(app)
    patient = await ready_patient(app)
    booking_id = await book(app, patient, doctor, 1)
    await browser_session(client, doctor.account)
    page = (await get_page(client, f"/doctor/visits/{booking_id}")).text
    assert "取消这次预约" in page and "结束就诊" not in text_of(page)  # not begun yet
    path = f"/doctor/visits/{booking_id}/cancel"
    empty = await post_form(client, path, {"reason": ""}, from_page=f"/doctor/visits/{booking_id}")
    assert empty.status_code == 422 and error_beside(empty.text, "reason") == "错误：请写明理由。"
    done = await post_form(
        client, path, {"reason": "临时手术"}, from_page=f"/doctor/visits/{booking_id}"
    )
    assert done.status_code == 303
    async with client_for(app) as http:
        booking = (await http.get(f"/api/bookings/{booking_id}", headers=patient.headers)).json()
    assert booking["status"] == "cancelled" and booking["refund_percent"] == 100
    assert booking["end_reason"] == "doctor_cancelled"


async def test_another_doctors_visit_is_not_found(app: Litestar, client: httpx.AsyncClient) -> None:
    doctor, other = await approved_doctor(app), await approved_doctor(app)
    patient = await ready_patient(app)
    booking_id = await book(app, patient, doctor, 2)
    await browser_session(client, other.account)
    assert (await get_page(client, f"/doctor/visits/{booking_id}")).status_code == 404
