"""Doctors' booking pages over HTTP: the day's queue in the doctor's zone, ending a visit
that has begun in each of the three ways the page offers (completed; the patient did not
come: no refund; a first visit not suitable online: refunded in full, a referral
suggested), cancelling one with a reason (the patient is refunded in full)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from litestar import Litestar

from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.pages import (
    browser_session,
    error_beside,
    get_page,
    post_form,
    text_of,
)
from medmarket.tests.support.seed import (
    Doctor,
    Patient,
    admit,
    approved_doctor,
    begin_visit,
    free_slots,
    hold,
    move_visit,
    pay,
    ready_patient,
)


async def book(app: Litestar, patient: Patient, doctor: Doctor, index: int) -> str:
    """A paid visit at the doctor's ``index``-th free time."""
    booking_id, _payment = await book_and_pay(app, patient, doctor, index)
    return booking_id


async def book_and_pay(
    app: Litestar, patient: Patient, doctor: Doctor, index: int
) -> tuple[str, dict[str, Any]]:
    """A paid visit at the doctor's ``index``-th free time, and its payment."""
    async with client_for(app) as http:
        slots = await free_slots(http, doctor.id)
        booking = await hold(http, patient, slots[index]["id"])
    return str(booking["id"]), await pay(app, patient, booking["id"])


async def ended_through_the_page(
    app: Litestar, client: httpx.AsyncClient, outcome: str, note: str
) -> tuple[Patient, dict[str, Any], dict[str, Any], str]:
    """A visit that began five minutes ago, ended by its doctor on the visit page with
    ``outcome``: (the patient, the booking and its payment as the patient sees them, the
    page the doctor lands on)."""
    doctor = await approved_doctor(app)
    patient = await ready_patient(app)
    booking_id, payment = await book_and_pay(app, patient, doctor, 0)
    if outcome == "patient_no_show":  # never came: a no-show is recorded from minute 10
        await move_visit(app, booking_id, -dt.timedelta(minutes=11))
    else:
        await begin_visit(app, booking_id)
        await admit(app, patient, doctor, booking_id)
    await browser_session(client, doctor.account)
    page = f"/doctor/visits/{booking_id}"
    offered = text_of((await get_page(client, page)).text)
    assert "患者未到" in offered and "初诊，不适合在线问诊" in offered
    ended = await post_form(
        client, f"{page}/outcome", {"outcome": outcome, "note": note}, from_page=page
    )
    assert ended.status_code == 303 and ended.headers["location"] == f"{page}?done=ended"
    after = text_of((await get_page(client, ended.headers["location"])).text)
    async with client_for(app) as http:
        booking = (await http.get(f"/api/bookings/{booking_id}", headers=patient.headers)).json()
    return patient, booking, payment, after


async def refunds_of(app: Litestar, patient: Patient, payment: dict[str, Any]) -> list[Any]:
    async with client_for(app) as http:
        found = await http.get(f"/api/payments/{payment['id']}/refunds", headers=patient.headers)
    assert found.status_code == 200, found.text
    return [(r["amount"]["amount"], r["reason"]) for r in found.json()]


async def consultation_status(app: Litestar, booking: dict[str, Any]) -> str:
    status: str = await app.state.services.db.fetchval(
        "SELECT status FROM consultations WHERE id = $1::uuid", booking["consultation_id"]
    )
    return status


async def outbox(app: Litestar, topic: str, where: str, value: str) -> list[Any]:
    rows = await app.state.services.db.fetch(
        f"SELECT payload FROM outbox WHERE topic = $1 AND {where} = $2",  # noqa: S608
        topic,
        value,
    )
    return [row["payload"] for row in rows]


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
    # Completed only once the patient was admitted to the consulting room.
    not_admitted = await post_form(
        client,
        f"/doctor/visits/{booking_id}/outcome",
        {"outcome": "completed", "note": "血压控制良好"},
        from_page=f"/doctor/visits/{booking_id}",
    )
    assert not_admitted.status_code == 409
    assert "请先在诊室接入患者" in (error_beside(not_admitted.text, "outcome") or "")
    await admit(app, patient, doctor, booking_id)
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


async def test_the_doctor_records_through_the_page_that_the_patient_did_not_come(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    patient, booking, payment, after = await ended_through_the_page(
        app, client, "patient_no_show", "按时等候 15 分钟，患者没有进入"
    )
    assert "已记录就诊结果" in after and "患者未到诊" in after and "结束就诊" not in after
    assert booking["status"] == "no_show" and booking["end_reason"] == "patient_no_show"
    assert booking["refund_percent"] is None
    assert await refunds_of(app, patient, payment) == []  # the doctor's time was kept
    assert await consultation_status(app, booking) == "no_show"


async def test_the_doctor_ends_a_first_visit_not_suitable_online_through_the_page(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    note = "胸痛需当面做心电图和心脏超声，请到线下合作医院就诊"
    patient, booking, payment, after = await ended_through_the_page(
        app, client, "first_visit_unsuitable", note
    )
    assert "已记录就诊结果" in after and "初诊不适合在线问诊，已全额退款" in after
    assert booking["status"] == "terminated" and booking["end_reason"] == "first_visit_unsuitable"
    assert booking["refund_percent"] == 100
    assert await refunds_of(app, patient, payment) == [
        (payment["amount"]["amount"], "first_visit_not_suitable")
    ]
    assert await consultation_status(app, booking) == "terminated"
    told = await outbox(
        app, "notification.send", "payload->'recipient'->>'user_id'", patient.account.id
    )
    assert [
        n["params"]["note"] for n in told if n["template"] == "booking.first_visit_unsuitable"
    ] == [note]
    referral = await outbox(app, "referral.suggested", "payload->>'booking_id'", booking["id"])
    assert referral == [{"booking_id": booking["id"], "note": note}]
