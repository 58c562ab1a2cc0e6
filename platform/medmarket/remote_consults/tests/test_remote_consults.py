"""A remote consultation (远程会诊 / MDT): the requesting doctor asks a team about a patient of
their visit with the patient's consent, the experts answer with a time or decline, the case
is scheduled, those who accepted give their opinions, the requester decides; each step is
audited and told, and nobody outside the case can see it."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from litestar import Litestar

from medmarket.remote_consults.tests.helpers import (
    API,
    CONSENT,
    answer,
    audit_actions,
    call,
    case_body,
    experts,
    notifications,
    ok,
    open_case,
    same_time,
    times,
    upload,
    visit_under_way,
)
from medmarket.tests.support.factories import PDF_BYTES, hospital_with_demo_adapter
from medmarket.tests.support.seed import ready_patient


async def test_an_mdt_of_three_where_one_declines_and_two_give_opinions(app: Litestar) -> None:
    visit = await visit_under_way(app)
    cardio, surgeon, imaging = await experts(app, 3)
    ecg = await upload(app, visit, "心电图.pdf")
    case = await open_case(app, visit, [cardio, surgeon, imaging], attachment_ids=[ecg["id"]])
    assert case["status"] == "open" and case["role"] == "requester"
    assert [i["status"] for i in case["invitations"]] == ["invited"] * 3
    assert case["clinical"]["consent"]["how"] == "verbal_in_person"
    assert [file["name"] for file in case["clinical"]["attachments"]] == ["心电图.pdf"]
    for expert in (cardio, surgeon, imaging):
        [told] = await notifications(app, "remote_consult.invited", expert.account.id)
        assert told["params"]["case_id"] == case["id"] and told["urgency"] == "high"
    first = case["proposed_times"][0]

    accepted = await answer(app, case, cardio, "accept", {"at": first})
    assert accepted.status_code == 200 and accepted.json()["role"] == "expert"
    # Not every expert answered yet: no schedule.
    early = await call(app, "POST", f"{API}/{case['id']}/schedule", visit.doctor, {"at": first})
    assert early.status_code == 409
    assert (await answer(app, case, surgeon, "accept", {"at": first})).status_code == 200
    no_reason = await answer(app, case, imaging, "decline", {})
    assert no_reason.status_code == 422
    declined = await answer(app, case, imaging, "decline", {"reason": "本周外出会议"})
    assert declined.status_code == 200
    # The expert who declined keeps the header, not the patient's clinical content or files.
    header = declined.json()
    assert header["question"] == case["question"] and header["clinical"] is None
    file_path = f"{API}/{case['id']}/files/{ecg['id']}"
    assert (await call(app, "GET", file_path, imaging)).status_code == 404
    got = await call(app, "GET", file_path, cardio)
    assert got.status_code == 200 and got.content == PDF_BYTES
    assert await notifications(app, "remote_consult.invitation_declined", visit.doctor.account.id)
    assert await notifications(app, "remote_consult.ready_to_schedule", visit.doctor.account.id)

    # The decision waits for an opinion; an opinion waits for the schedule.
    path = f"{API}/{case['id']}"
    too_soon = await call(app, "POST", path + "/decision", visit.doctor, {"text": "先药物治疗"})
    assert too_soon.status_code == 409 and too_soon.json()["status_now"] == "open"
    unscheduled = await call(app, "POST", path + "/opinions", cardio, {"text": "建议介入"})
    assert unscheduled.status_code == 409

    scheduled = await ok(app, "POST", path + "/schedule", visit.doctor, {"at": first})
    assert scheduled["status"] == "scheduled" and scheduled["room_ready"] is True
    assert same_time(scheduled["scheduled_at"], first)
    for expert in (cardio, surgeon):
        assert await notifications(app, "remote_consult.scheduled", expert.account.id)
    assert not await notifications(app, "remote_consult.scheduled", imaging.account.id)

    refused = await call(app, "POST", path + "/opinions", imaging, {"text": "建议搭桥"})
    assert refused.status_code == 409 and refused.json()["status_now"] == "declined"
    opinion = {"text": "三支病变合并糖尿病，建议 CABG", "assessment": "SYNTAX 评分高"}
    given = await ok(app, "POST", path + "/opinions", surgeon, opinion)
    assert given["status"] == "opinions"
    again = await call(app, "POST", path + "/opinions", surgeon, {"text": "改为介入"})
    assert again.status_code == 409
    with pytest.raises(asyncpg.CheckViolationError, match="records are kept"):
        await app.state.services.db.execute(
            "UPDATE remote_consultation_opinions SET text = '改为介入' WHERE consultation_id = $1",
            uuid.UUID(case["id"]),
        )
    await ok(app, "POST", path + "/opinions", cardio, {"text": "可考虑分次 PCI"})
    assert (
        len(await notifications(app, "remote_consult.opinion_given", visit.doctor.account.id)) == 2
    )

    # Only the requester decides.
    by_expert = await call(app, "POST", path + "/decision", cardio, {"text": "搭桥"})
    assert by_expert.status_code == 403
    decided = await ok(
        app, "POST", path + "/decision", visit.doctor, {"text": "转上级医院心外科行 CABG"}
    )
    assert decided["status"] == "decided" and decided["room_ready"] is False
    decision = decided["clinical"]["decision"]
    assert decision["advisory"] is True
    assert decision["referral_hint"] == {
        "method": "POST",
        "href": "/api/referrals",
        "booking_id": visit.booking_id,
    }
    assert [o["expert"]["id"] for o in decided["clinical"]["opinions"]] == [surgeon.id, cardio.id]
    twice = await call(app, "POST", path + "/decision", visit.doctor, {"text": "改主意"})
    assert twice.status_code == 409
    for expert in (cardio, surgeon):
        assert await notifications(app, "remote_consult.decided", expert.account.id)

    assert await audit_actions(app, case["id"]) == [
        "remote_consult.opened",
        "remote_consult.invitation_accepted",
        "remote_consult.invitation_accepted",
        "remote_consult.invitation_declined",
        "remote_consult.file_read",
        "remote_consult.scheduled",
        "remote_consult.opinion_given",
        "remote_consult.opinions",
        "remote_consult.opinion_given",
        "remote_consult.decided",
    ]
    timeline = [event["status"] for event in decided["timeline"]]
    assert timeline == [
        "open",
        "invited",
        "invited",
        "invited",
        "accepted",
        "accepted",
        "declined",
        "scheduled",
        "opinion_given",
        "opinions",
        "opinion_given",
        "decided",
    ]
    mine = await ok(app, "GET", API, cardio)
    assert [listed["id"] for listed in mine] == [case["id"]] and mine[0]["clinical"] is None


async def test_without_the_patients_consent_nothing_is_opened(app: Litestar) -> None:
    visit = await visit_under_way(app)
    [expert] = await experts(app, 1)
    body = case_body(visit, [expert])
    del body["consent"]
    missing = await call(app, "POST", API, visit.doctor, body)
    refused = await call(
        app, "POST", API, visit.doctor, {**body, "consent": {**CONSENT, "given": False}}
    )
    for response in (missing, refused):
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "consent"
    stored = await app.state.services.db.fetchval(
        "SELECT count(*) FROM remote_consultations WHERE patient_id = $1", visit.patient.id
    )
    assert stored == 0
    assert not await notifications(app, "remote_consult.invited", expert.account.id)


async def test_nobody_outside_the_case_sees_it_or_its_files(app: Litestar) -> None:
    visit = await visit_under_way(app)
    [expert] = await experts(app, 1)
    ecg = await upload(app, visit, "心电图.pdf")
    case = await open_case(app, visit, [expert], attachment_ids=[ecg["id"]])
    outsider = (await experts(app, 1))[0]
    admin = (await hospital_with_demo_adapter(app)).admin
    other_visit = await visit_under_way(app)  # a patient of another doctor
    case_path = f"{API}/{case['id']}"
    for who in (outsider, admin, other_visit.patient, visit.patient, other_visit.doctor):
        for path in (case_path, f"{case_path}/files/{ecg['id']}"):
            assert (await call(app, "GET", path, who)).status_code == 404, (who, path)
    assert (await ok(app, "GET", API, outsider)) == []
    stranger = await call(app, "POST", case_path + "/cancel", outsider, {"reason": "不要了"})
    assert stranger.status_code == 404
    assert (await answer(app, case, expert, "decline", {"reason": "x"})).status_code == 422
    # A doctor asks only about a patient of their own visits, and not themself.
    theirs = case_body(visit, [expert], patient_id=other_visit.patient.id)
    not_mine = await call(app, "POST", API, visit.doctor, theirs)
    assert not_mine.status_code == 404 and not_mine.json()["errors"][0]["field"] == "patient_id"
    self_asked = await call(
        app,
        "POST",
        API,
        visit.doctor,
        {**case_body(visit, [expert]), "expert_ids": [visit.doctor.id]},
    )
    assert self_asked.status_code == 422
    assert self_asked.json()["errors"][0]["field"] == "expert_ids[0]"
    foreign_file = await upload(app, other_visit, "别人的.pdf")
    other_file = case_body(visit, [expert], attachment_ids=[foreign_file["id"]])
    wrong = await call(app, "POST", API, visit.doctor, other_file)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "attachment_ids[0]"


async def test_a_proposed_time_accepted_becomes_the_time_of_the_case(app: Litestar) -> None:
    visit = await visit_under_way(app)
    first, second = await experts(app, 2)
    case = await open_case(app, visit, [first, second])
    [later] = times(4)
    outside = await answer(app, case, first, "accept", {"at": later})
    assert outside.status_code == 422  # not one of the case's times: propose it
    proposed = await answer(app, case, first, "propose", {"at": later, "note": "周四下午有空"})
    assert proposed.status_code == 200
    assert await notifications(app, "remote_consult.time_proposed", visit.doctor.account.id)
    path = f"{API}/{case['id']}"
    invitation = proposed.json()["my_invitation_id"]
    # Asked again, the expert proposes once more; the requester takes it this time.
    reasked = await ok(
        app,
        "POST",
        path + "/accept-proposal",
        visit.doctor,
        {"invitation_id": invitation, "answer": "reask"},
    )
    assert [i["status"] for i in reasked["invitations"]] == ["invited", "invited"]
    assert await notifications(app, "remote_consult.asked_again", first.account.id)
    await answer(app, case, first, "propose", {"at": later})
    by_expert = await call(
        app,
        "POST",
        path + "/accept-proposal",
        first,
        {"invitation_id": invitation, "answer": "accept"},
    )
    assert by_expert.status_code == 403
    taken = await ok(
        app,
        "POST",
        path + "/accept-proposal",
        visit.doctor,
        {"invitation_id": invitation, "answer": "accept"},
    )
    [mine] = [i for i in taken["invitations"] if i["id"] == invitation]
    assert mine["status"] == "accepted" and same_time(mine["accepted_time"], later)
    assert await notifications(app, "remote_consult.proposal_accepted", first.account.id)
    # The accepted proposal is a time of the case now: the other expert takes it too.
    assert (await answer(app, case, second, "accept", {"at": later})).status_code == 200
    elsewhere = await call(
        app, "POST", path + "/schedule", visit.doctor, {"at": case["proposed_times"][0]}
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "at"
    scheduled = await ok(app, "POST", path + "/schedule", visit.doctor, {"at": later})
    assert same_time(scheduled["scheduled_at"], later)
    started = await ok(app, "POST", path + "/start", visit.doctor)
    assert started["status"] == "in_session" and started["room_ready"] is True
    cancelled = await ok(app, "POST", path + "/cancel", visit.doctor, {"reason": "患者转院"})
    assert cancelled["status"] == "cancelled"
    assert await notifications(app, "remote_consult.cancelled", second.account.id)
    assert "remote_consult.proposal_accepted" in await audit_actions(app, case["id"])
    assert "remote_consult.asked_again" in await audit_actions(app, case["id"])


async def test_only_an_expert_who_accepted_gives_an_opinion(app: Litestar) -> None:
    visit = await visit_under_way(app)
    taker, waiter = await experts(app, 2)
    case = await open_case(app, visit, [taker, waiter])
    path = f"{API}/{case['id']}"
    invited = await call(app, "POST", path + "/opinions", waiter, {"text": "我的意见"})
    assert invited.status_code == 409 and invited.json()["status_now"] == "invited"
    by_requester = await call(app, "POST", path + "/opinions", visit.doctor, {"text": "意见"})
    assert by_requester.status_code == 403  # the requester asks; experts give opinions
    withdrawn = await ok(app, "POST", path + "/cancel", visit.doctor, {"reason": "患者拒绝"})
    assert withdrawn["status"] == "withdrawn"
    late = await answer(app, case, taker, "accept", {"at": case["proposed_times"][0]})
    assert late.status_code == 409
    assert await notifications(app, "remote_consult.withdrawn", taker.account.id)
    patient = await ready_patient(app)
    assert (await call(app, "GET", API, patient)).status_code == 403  # the list is doctors'
    assert (await call(app, "GET", path, patient)).status_code == 404


async def test_when_every_expert_declines_the_requester_withdraws(app: Litestar) -> None:
    visit = await visit_under_way(app)
    first, second = await experts(app, 2)
    case = await open_case(app, visit, [first, second])
    for expert in (first, second):
        assert (
            await answer(app, case, expert, "decline", {"reason": "不在本专业"})
        ).status_code == 200
    [told] = await notifications(app, "remote_consult.all_declined", visit.doctor.account.id)
    assert told["params"]["case_id"] == case["id"]
    assert not await notifications(app, "remote_consult.ready_to_schedule", visit.doctor.account.id)
    path = f"{API}/{case['id']}"
    nobody = await call(
        app, "POST", path + "/schedule", visit.doctor, {"at": case["proposed_times"][0]}
    )
    assert nobody.status_code == 409
    withdrawn = await ok(app, "POST", path + "/cancel", visit.doctor, {"reason": "另请专家"})
    assert withdrawn["status"] == "withdrawn" and withdrawn["cancel_reason"] == "另请专家"
    # Nobody still taking part is left to tell.
    assert not await notifications(app, "remote_consult.withdrawn", first.account.id)
    assert await audit_actions(app, case["id"]) == [
        "remote_consult.opened",
        "remote_consult.invitation_declined",
        "remote_consult.invitation_declined",
        "remote_consult.withdrawn",
    ]
