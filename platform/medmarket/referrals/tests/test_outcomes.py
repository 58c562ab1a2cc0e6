"""After the hospital accepted: what happened to the patient, recorded by the hospital's
admin, and the way back down (下转) to a doctor on the platform for follow-up."""

from __future__ import annotations

from litestar import Litestar

from medmarket.referrals.tests.helpers import (
    audit_actions,
    call,
    notifications,
    ok,
    read,
    receiving_hospital,
    referred_and_sent,
    visit_under_way,
)
from medmarket.tests.support.seed import approved_doctor, ready_patient

SUMMARY = "冠脉造影示前降支狭窄 80%，已植入支架 1 枚。出院诊断：不稳定型心绞痛。"
FOLLOW_UP = "阿司匹林 + 氯吡格雷 12 个月；1 个月后复查血脂、肝功能。"


async def test_a_patient_referred_back_down_reaches_the_doctors_queue(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await referred_and_sent(app, visit, hospital)
    desk = f"/api/hospital/referrals/{referral['id']}/outcome"
    await ok(app, "POST", desk, hospital.admin, {"status": "seen", "note": "门诊已接诊"})
    await ok(app, "POST", desk, hospital.admin, {"status": "admitted"})
    back = await ok(
        app,
        "POST",
        desk,
        hospital.admin,
        {"status": "referred_back", "summary": SUMMARY, "follow_up": FOLLOW_UP},
    )
    assert back["status"] == "referred_back"
    down = back["down_referral"]
    assert down["to_doctor"]["id"] == visit.doctor.id and down["status"] == "sent"
    assert down["summary"] == SUMMARY and down["follow_up"] == FOLLOW_UP

    # The county doctor who referred finds the patient in their queue, and takes them on.
    [queued] = await ok(app, "GET", "/api/down-referrals", visit.doctor)
    assert queued["id"] == down["id"] and queued["hospital"]["name"] == hospital.name
    assert queued["patient"]["id"] == visit.patient.id
    assert await notifications(app, "referral.down_received", visit.doctor.account.id)
    taken = await ok(app, "POST", f"/api/down-referrals/{down['id']}/acknowledge", visit.doctor)
    assert taken["status"] == "acknowledged" and taken["acknowledged_at"]

    # The patient sees where it ended; the timeline says who recorded each step.
    seen_by_patient = await read(app, visit.patient, referral)
    assert seen_by_patient["down_referral"]["summary"] == SUMMARY
    assert [(e["status"], e["source"]) for e in seen_by_patient["timeline"]][-3:] == [
        ("seen", "hospital_admin"),
        ("admitted", "hospital_admin"),
        ("referred_back", "hospital_admin"),
    ]
    assert await audit_actions(app, referral["id"]) == [
        "referral.submitted",
        "referral.consented",
        "referral.accepted",
        "referral.seen",
        "referral.admitted",
        "referral.referred_back",
    ]
    # Nobody else sees the down-referral.
    path = f"/api/down-referrals/{down['id']}"
    for who in (await approved_doctor(app), await ready_patient(app)):
        assert (await call(app, "GET", path, who)).status_code == 404
        assert (await call(app, "POST", path + "/acknowledge", who)).status_code == 404
    other = await receiving_hospital(app)
    assert (await call(app, "GET", path, other.admin)).status_code == 404
    assert (await call(app, "GET", path, hospital.admin)).status_code == 200


async def test_a_hospital_may_send_the_patient_to_another_doctor_on_the_platform(
    app: Litestar,
) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    township_doctor = await approved_doctor(app)
    referral = await referred_and_sent(app, visit, hospital)
    back = await ok(
        app,
        "POST",
        f"/api/hospital/referrals/{referral['id']}/outcome",
        hospital.admin,
        {"status": "referred_back", "summary": SUMMARY, "to_doctor_id": township_doctor.id},
    )
    assert back["down_referral"]["to_doctor"]["id"] == township_doctor.id
    assert [d["id"] for d in await ok(app, "GET", "/api/down-referrals", township_doctor)] == [
        back["down_referral"]["id"]
    ]
    assert await ok(app, "GET", "/api/down-referrals", visit.doctor) == []
    # The referring doctor still sees how it ended.
    assert (await read(app, visit.doctor, referral))["down_referral"]["to_doctor"]["id"] == (
        township_doctor.id
    )


async def test_outcomes_follow_the_order_things_happen_in(app: Litestar) -> None:
    visit = await visit_under_way(app)
    hospital = await receiving_hospital(app)
    referral = await referred_and_sent(app, visit, hospital)
    desk = f"/api/hospital/referrals/{referral['id']}/outcome"
    no_summary = await call(app, "POST", desk, hospital.admin, {"status": "referred_back"})
    assert no_summary.status_code == 422 and no_summary.json()["errors"][0]["field"] == "summary"
    await ok(app, "POST", desk, hospital.admin, {"status": "discharged", "note": "门诊处理后回家"})
    again = await call(app, "POST", desk, hospital.admin, {"status": "seen"})
    assert again.status_code == 409 and again.json()["status_now"] == "discharged"
    future = await call(
        app, "POST", desk, hospital.admin, {"status": "seen", "at": "2099-01-01T09:00:00+08:00"}
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "at"
    another = await referred_and_sent(app, await visit_under_way(app), hospital)
    unknown_doctor = await call(
        app,
        "POST",
        f"/api/hospital/referrals/{another['id']}/outcome",
        hospital.admin,
        {
            "status": "referred_back",
            "summary": SUMMARY,
            "to_doctor_id": "00000000-0000-4000-8000-000000000000",
        },
    )
    assert unknown_doctor.status_code == 422
    assert unknown_doctor.json()["errors"][0]["field"] == "to_doctor_id"
