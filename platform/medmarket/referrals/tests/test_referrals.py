"""A referral from a visit to a partner hospital: the patient agrees, the hospital's system
answers from its calendar (accepted with a time, a place and a green-channel ticket, or
refused when full), everyone involved is told, and nobody else can see it."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import zoneinfo
from typing import Any

from litestar import Litestar

from medmarket.referrals.tests.helpers import (
    CLINIC,
    DETAILS,
    Visit,
    audit_actions,
    call,
    consent,
    deliver_outbox,
    notifications,
    ok,
    read,
    receiving_hospital,
    refer,
    referred_and_sent,
    visit_under_way,
)
from medmarket.tests.support.factories import PDF_BYTES, PNG_BYTES
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import approved_doctor, ready_patient

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


async def test_a_referral_is_accepted_by_the_hospitals_calendar(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await refer(app, visit, hospital)
    assert referral["status"] == "awaiting_consent"
    assert referral["hospital"]["name"] == hospital.name and referral["urgency"] == "routine"
    # Nothing reaches the hospital before the patient agrees.
    assert (
        await call(app, "GET", f"/api/hospital/referrals/{referral['id']}", hospital.admin)
    ).status_code == 404
    [asked] = await notifications(app, "referral.awaiting_consent", visit.patient.account.id)
    assert asked["params"]["department"] == "心内科"

    agreed = await consent(app, visit, referral)
    assert agreed["status"] == "pending" and agreed["sending"]["answered"] is False
    await deliver_outbox(app)

    accepted = await read(app, visit.patient, referral)
    assert accepted["status"] == "accepted"
    appointment = accepted["appointment"]
    assert appointment["place"] == CLINIC["place"] and appointment["instructions"] == "请空腹"
    assert appointment["ticket"].startswith(f"GC-{hospital.hospital_code}-")
    starts = dt.datetime.fromisoformat(appointment["starts_at"]).astimezone(SHANGHAI)
    assert starts.strftime("%H:%M") in CLINIC["times"]
    assert starts.date() > dt.datetime.now(SHANGHAI).date()  # routine: from the next day
    assert [event["status"] for event in accepted["timeline"]] == [
        "awaiting_consent",
        "pending",
        "accepted",
    ]
    assert [e["source"] for e in accepted["timeline"]] == ["doctor", "patient", "hospital_system"]
    # The doctor sees the status; both are told; the hospital's admins now see it.
    assert (await read(app, visit.doctor, referral))["status"] == "accepted"
    assert await notifications(app, "referral.accepted", visit.patient.account.id)
    assert await notifications(app, "referral.accepted", visit.doctor.account.id)
    desk = await ok(app, "GET", "/api/hospital/referrals", hospital.admin)
    assert [r["id"] for r in desk] == [referral["id"]]
    assert await audit_actions(app, referral["id"]) == [
        "referral.submitted",
        "referral.consented",
        "referral.accepted",
    ]


async def test_a_full_department_refuses_and_the_doctor_can_refer_elsewhere(
    app: Litestar,
) -> None:
    one_place = {**CLINIC, "times": ["09:00"], "places_per_time": 1, "days_ahead": 1}
    hospital = await receiving_hospital(app, clinics=[one_place])
    first, second = await visit_under_way(app), await visit_under_way(app)
    taken = await referred_and_sent(app, first, hospital)
    assert taken["status"] == "accepted"

    refused = await referred_and_sent(app, second, hospital)
    assert refused["status"] == "refused"
    assert refused["refusal"]["code"] == "department_full" and refused["appointment"] is None
    [told] = await notifications(app, "referral.refused", second.doctor.account.id)
    assert told["urgency"] == "high"
    # A refused referral holds nothing: the doctor sends the patient to another hospital.
    other = await receiving_hospital(app)
    again = await referred_and_sent(app, second, other)
    assert again["status"] == "accepted"


async def test_a_department_the_hospital_does_not_have_is_named(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    response = await call(
        app,
        "POST",
        "/api/referrals",
        visit.doctor,
        {
            "department": "骨科",
            "urgency": "routine",
            "reason": "骨折",
            "clinical_summary": "右腕外伤",
            "booking_id": visit.booking_id,
            "hospital_id": hospital.id,
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "department"


async def test_a_hospital_without_the_clinic_refuses_what_it_cannot_take(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)  # neurology is a department, with no clinic
    refused = await referred_and_sent(app, visit, hospital, department="神经内科")
    assert refused["status"] == "refused" and refused["refusal"]["code"] == "department_unknown"


async def test_an_emergency_tells_the_patient_what_to_do_at_once(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    missing = await call(
        app,
        "POST",
        "/api/referrals",
        visit.doctor,
        {"booking_id": visit.booking_id, "hospital_id": hospital.id, **CLINIC_EMERGENCY},
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "emergency_advice"
    advice = "立即拨打 120，或由家属送往最近的急诊科；不要自行驾车。"
    referral = await refer(app, visit, hospital, urgency="emergency", emergency_advice=advice)
    # Before any consent, the patient is told what to do now.
    [told] = await notifications(app, "referral.awaiting_consent", visit.patient.account.id)
    assert told["params"]["emergency_advice"] == advice and told["urgency"] == "high"
    assert (await read(app, visit.patient, referral))["emergency_advice"] == advice
    await consent(app, visit, referral)
    await deliver_outbox(app)
    accepted = await read(app, visit.patient, referral)
    assert accepted["status"] == "accepted"
    assert accepted["appointment"]["place"].startswith("急诊科")


CLINIC_EMERGENCY = {
    "department": "心内科",
    "urgency": "emergency",
    "reason": "急性胸痛 30 分钟",
    "clinical_summary": "持续压榨样胸痛，大汗。",
}


async def test_a_visit_has_one_live_referral_even_when_two_are_sent_at_once(
    app: Litestar,
) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    body = {
        "department": "心内科",
        "urgency": "urgent",
        "reason": "胸痛",
        "clinical_summary": "活动后胸痛",
        "booking_id": visit.booking_id,
        "hospital_id": hospital.id,
    }
    answers = await asyncio.gather(
        *(call(app, "POST", "/api/referrals", visit.doctor, body) for _ in range(2))
    )
    assert sorted(r.status_code for r in answers) == [201, 409]
    [refused] = [r for r in answers if r.status_code == 409]
    assert refused.json()["errors"][0]["field"] == "booking_id"


async def test_nobody_else_sees_a_referral(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await referred_and_sent(app, visit, hospital)
    stranger = await ready_patient(app)
    uninvolved = await approved_doctor(app)
    other_hospital = await receiving_hospital(app)
    path = f"/api/referrals/{referral['id']}"
    for who in (stranger, uninvolved):
        assert (await call(app, "GET", path, who)).status_code == 404
        assert referral["id"] not in [r["id"] for r in await ok(app, "GET", "/api/referrals", who)]
        cancelled = await call(app, "POST", path + "/cancel", who, {"reason": "不需要"})
        assert cancelled.status_code == 404
    assert (await call(app, "POST", path + "/consent", stranger)).status_code == 404
    desk = f"/api/hospital/referrals/{referral['id']}"
    assert (await call(app, "GET", desk, other_hospital.admin)).status_code == 404
    assert not await ok(app, "GET", "/api/hospital/referrals", other_hospital.admin)
    outcome = await call(app, "POST", desk + "/outcome", other_hospital.admin, {"status": "seen"})
    assert outcome.status_code == 404
    # The parties themselves see it; the hospital's reads are audited.
    assert (await call(app, "GET", desk, hospital.admin)).status_code == 200
    assert "referral.read" in await audit_actions(app, referral["id"])
    assert (await call(app, "GET", path, visit.patient)).status_code == 200


async def test_cancelling_frees_the_hospitals_place(app: Litestar) -> None:
    one_place = {**CLINIC, "times": ["09:00"], "places_per_time": 1, "days_ahead": 1}
    hospital = await receiving_hospital(app, clinics=[one_place])
    first, second = await visit_under_way(app), await visit_under_way(app)
    taken = await referred_and_sent(app, first, hospital)
    cancelled = await ok(
        app,
        "POST",
        f"/api/referrals/{taken['id']}/cancel",
        first.patient,
        {"reason": "已在本地住院"},
    )
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "已在本地住院"
    await deliver_outbox(app)  # the hospital is told, and frees the place
    assert (await referred_and_sent(app, second, hospital))["status"] == "accepted"
    assert await notifications(app, "referral.cancelled", first.doctor.account.id)


async def test_the_patient_may_decline(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await refer(app, visit, hospital)
    declined = await ok(
        app,
        "POST",
        f"/api/referrals/{referral['id']}/decline",
        visit.patient,
        {"reason": "想去省城"},
    )
    assert declined["status"] == "declined"
    again = await call(app, "POST", f"/api/referrals/{referral['id']}/consent", visit.patient)
    assert again.status_code == 409 and again.json()["status_now"] == "declined"
    assert await notifications(app, "referral.declined", visit.doctor.account.id)
    assert (
        await call(app, "GET", f"/api/hospital/referrals/{referral['id']}", hospital.admin)
    ).status_code == 404


async def test_the_hospital_reads_the_files_sent_with_the_referral(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    sent = await upload(app, visit, visit.patient, "心电图.pdf", PDF_BYTES)
    kept = await upload(app, visit, visit.patient, "舌苔.png", PNG_BYTES)
    referral = await refer(app, visit, hospital, attachment_ids=[sent["id"]])
    assert [a["name"] for a in referral["attachments"]] == ["心电图.pdf"]
    wrong = await call(
        app,
        "POST",
        "/api/referrals",
        (other := await visit_under_way(app)).doctor,
        {
            **DETAILS,
            "booking_id": other.booking_id,
            "hospital_id": hospital.id,
            "attachment_ids": [sent["id"]],
        },
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "attachment_ids[0]"
    files = f"/api/hospital/referrals/{referral['id']}/files"
    before = await call(app, "GET", f"{files}/{sent['id']}", hospital.admin)
    assert before.status_code == 404  # not before the patient agreed
    await consent(app, visit, referral)
    got = await call(app, "GET", f"{files}/{sent['id']}", hospital.admin)
    assert got.status_code == 200 and got.content == PDF_BYTES
    assert got.headers["content-type"] == "application/pdf"
    assert (await call(app, "GET", f"{files}/{kept['id']}", hospital.admin)).status_code == 404
    stranger = (await receiving_hospital(app)).admin
    assert (await call(app, "GET", f"{files}/{sent['id']}", stranger)).status_code == 404
    assert "referral.file_read" in await audit_actions(app, referral["id"])


async def upload(app: Litestar, visit: Visit, who: Any, name: str, content: bytes) -> Any:
    async with client_for(app) as http:
        response = await http.post(
            visit.path + "/attachments",
            headers=who.headers,
            files={"file": (name, io.BytesIO(content), "application/octet-stream")},
        )
    assert response.status_code == 201, response.text
    return response.json()["attachment"]
