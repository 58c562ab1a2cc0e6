"""Referrals to a hospital's FHIR R4 server: the ServiceRequest the adapter creates (once per
referral id), the hospital's decision as its Task and Appointment, outcomes as the Task's
outputs, cancelling by revoking; and servers that are slow, failing or malformed."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from medmarket_hospital_fhir import UNREACHABLE, FhirError, FhirHospital, FhirHospitalType
from medmarket_hospital_fhir.referrals import ATTACHMENT_SYSTEM, REFERRAL_SYSTEM

from medmarket import (
    ReferralAppointment,
    ReferralAttachment,
    ReferralOutcome,
    ReferralPatient,
    ReferralRequest,
    ReferringDoctor,
    Urgency,
)
from medmarket.testing.http_recorder import Recorded, Reply

from .server import (
    LICENCE_SYSTEM,
    ORGANIZATION,
    TICKET_SYSTEM,
    FhirServer,
    appointment,
    invalid_referral,
    outcome,
    output,
    task,
)
from .test_fhir_adapter import config

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ECG_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def referral(urgency: Urgency = "urgent", **changes: Any) -> ReferralRequest:
    values: dict[str, Any] = {
        "referral_id": "ref-0001",
        "department": "心内科",
        "urgency": urgency,
        "reason": "疑似不稳定型心绞痛，需冠脉造影评估",
        "clinical_summary": "男，58岁，活动后胸痛3天，心电图ST段压低。",
        "patient": ReferralPatient(
            full_name="张三",
            date_of_birth=dt.date(1968, 4, 12),
            sex="male",
            phone="+8613800138000",
        ),
        "referring_doctor": ReferringDoctor(
            full_name="李文华",
            licence_number="110330200000007",
            hospital="西湖社区卫生服务中心",
            department="全科",
        ),
        "requested_at": dt.datetime(2026, 3, 2, 8, 15, tzinfo=SHANGHAI),
        "attachments": (
            ReferralAttachment(
                name="ECG-0301.pdf",
                content_type="application/pdf",
                size_bytes=182_044,
                sha256=ECG_SHA256,
            ),
        ),
        **changes,
    }
    return ReferralRequest(**values)


@pytest.fixture
async def hospital(
    fhir_server: FhirServer, fhir_type: FhirHospitalType
) -> AsyncIterator[FhirHospital]:
    adapter = fhir_type.create(config(fhir_server.base_url))
    yield adapter
    await adapter.aclose()


def accepts(referral: dict[str, Any]) -> list[dict[str, Any]]:
    """A hospital that takes every referral at once and books it."""
    return [
        task("t1", referral["id"], "accepted"),
        appointment("a1", referral["id"]),
    ]


def posts(fhir_server: FhirServer) -> list[Recorded]:
    return [r for r in fhir_server.recorder.requests if r.method == "POST"]


async def test_an_accepted_referral_answers_its_appointment_and_ticket(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = accepts
    decision = await hospital.accept_referral(referral())
    assert decision.status == "accepted"
    assert decision.appointment == ReferralAppointment(
        starts_at=dt.datetime(2026, 3, 3, 9, 30, tzinfo=SHANGHAI),
        place="门诊楼3层 心内科诊室5",
        department="心血管内科",
        ticket="LS-20260303-0042",
        instructions="空腹前来，带既往心电图",
    )
    assert decision.appointment.starts_at.utcoffset() == dt.timedelta(hours=8)
    assert decision.hospital_reference == "ServiceRequest/sr-1"
    assert decision.evidence == {
        "server": fhir_server.base_url,
        "service_request": "ServiceRequest/sr-1",
        "service_request_version": "1",
        "service_request_status": "active",
        "task": "Task/t1",
        "task_version": "1",
        "task_status": "accepted",
        "appointment": "Appointment/a1",
        "appointment_version": "1",
    }
    [post] = posts(fhir_server)
    condition = parse_qs(post.headers["if-none-exist"], strict_parsing=True)
    assert condition == {"identifier": [f"{REFERRAL_SYSTEM}|ref-0001"]}
    assert post.headers["content-type"] == "application/fhir+json"
    searches = [urlsplit(r.path) for r in fhir_server.recorder.requests if r.method == "GET"]
    assert [(s.path, parse_qs(s.query)) for s in searches] == [
        ("/fhir/Task", {"focus": ["ServiceRequest/sr-1"]}),
        ("/fhir/Appointment", {"based-on": ["ServiceRequest/sr-1"]}),
    ]


async def test_a_refused_referral_gives_the_hospitals_reason(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = lambda r: [
        task(
            "t1",
            r["id"],
            "rejected",
            reason="心内科床位已满，建议转市一医院",
            reason_code="department_full",
        )
    ]
    decision = await hospital.accept_referral(referral())
    assert (decision.status, decision.reason_code, decision.reason) == (
        "refused",
        "department_full",
        "心内科床位已满，建议转市一医院",
    )
    assert decision.appointment is None
    assert decision.hospital_reference == "ServiceRequest/sr-1"


async def test_a_refusal_without_a_code_is_refused(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = lambda r: [task("t1", r["id"], "cancelled", reason="暂停接收转诊")]
    decision = await hospital.accept_referral(referral())
    assert (decision.status, decision.reason_code, decision.reason) == (
        "refused",
        "refused",
        "暂停接收转诊",
    )


async def test_a_referral_still_being_decided_is_received_then_accepted_later(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    decision = await hospital.accept_referral(referral())
    assert (decision.status, decision.appointment) == ("received", None)
    reference = decision.hospital_reference
    assert reference == "ServiceRequest/sr-1"
    assert (await hospital.referral_status("ref-0001", reference)).decision is None

    fhir_server.add(task("t1", "sr-1", "received"))
    assert (await hospital.referral_status("ref-0001", reference)).decision is None
    # Accepted, but the appointment is not booked yet: still no decision to act on.
    fhir_server.add(task("t1", "sr-1", "accepted", version="2"))
    fhir_server.add(appointment("a1", "sr-1", status="proposed"))
    assert (await hospital.referral_status("ref-0001", reference)).decision is None

    fhir_server.add(appointment("a1", "sr-1", version="2"))
    status = await hospital.referral_status("ref-0001", reference)
    assert status.decision is not None and status.decision.status == "accepted"
    assert status.decision.appointment is not None
    assert status.decision.appointment.ticket == "LS-20260303-0042"
    assert status.decision.evidence["task_version"] == "2"
    assert status.outcomes == ()


async def test_of_several_tasks_the_one_modified_last_decides(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = lambda r: [
        task("t-new", r["id"], "rejected", reason="改约", last_modified="2026-03-02T02:00:00Z"),
        # 09:30 in Shanghai is 01:30 UTC, before 02:00 UTC: instants, not strings, compare.
        task("t-old", r["id"], "accepted", last_modified="2026-03-02T09:30:00+08:00"),
        task("t-void", r["id"], "accepted", last_modified="2026-03-09T00:00:00Z")
        | {"status": "entered-in-error"},
    ]
    decision = await hospital.accept_referral(referral())
    assert (decision.status, decision.evidence["task"]) == ("refused", "Task/t-new")


async def test_a_retried_referral_is_the_same_service_request(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = accepts
    first = await hospital.accept_referral(referral())
    again = await hospital.accept_referral(referral())
    assert list(fhir_server.service_requests) == ["sr-1"]
    assert len(posts(fhir_server)) == 2  # the second create matched the first one
    assert again == first
    other = await hospital.accept_referral(referral(referral_id="ref-0002"))
    assert other.hospital_reference == "ServiceRequest/sr-2"


async def test_a_server_that_answers_a_create_with_only_a_location(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.answers_creates_without_body = True
    fhir_server.decides = accepts
    decision = await hospital.accept_referral(referral())
    assert (decision.status, decision.hospital_reference) == ("accepted", "ServiceRequest/sr-1")
    reads = [urlsplit(r.path).path for r in fhir_server.recorder.requests if r.method == "GET"]
    assert reads[0] == "/fhir/ServiceRequest/sr-1"


@pytest.mark.parametrize(
    ("urgency", "priority"), [("routine", "routine"), ("urgent", "urgent"), ("emergency", "stat")]
)
async def test_the_service_request_sent_is_valid_fhir_and_says_who_what_and_where(
    fhir_server: FhirServer, hospital: FhirHospital, urgency: Urgency, priority: str
) -> None:
    advice = "已嘱患者立即拨打120" if urgency == "emergency" else None
    await hospital.accept_referral(referral(urgency, emergency_advice=advice))
    [post] = posts(fhir_server)
    sent = post.json()
    assert invalid_referral(sent) is None
    parsed = ServiceRequest.model_validate(sent)  # the independent FHIR models read it
    assert (parsed.status, parsed.intent, parsed.priority) == ("active", "order", priority)
    assert sent["identifier"] == [{"system": REFERRAL_SYSTEM, "value": "ref-0001"}]
    assert sent["authoredOn"] == "2026-03-02T08:15:00+08:00"
    [patient] = sent["contained"]
    assert sent["subject"] == {"reference": f"#{patient['id']}", "display": "张三"}
    assert patient["name"] == [{"use": "official", "text": "张三"}]
    assert (patient["birthDate"], patient["gender"]) == ("1968-04-12", "male")
    assert patient["telecom"] == [{"system": "phone", "value": "+8613800138000", "use": "mobile"}]
    assert sent["performer"] == [{"reference": f"Organization/{ORGANIZATION}"}]
    assert sent["performerType"] == {"text": "心内科"}
    assert sent["requester"] == {
        "display": "李文华 (西湖社区卫生服务中心 全科)",
        "identifier": {"system": LICENCE_SYSTEM, "value": "110330200000007"},
    }
    assert sent["reasonCode"] == [{"text": "疑似不稳定型心绞痛，需冠脉造影评估"}]
    assert sent["category"][0]["text"] == "referral"
    notes = [note["text"] for note in sent["note"]]
    assert notes[0] == "男，58岁，活动后胸痛3天，心电图ST段压低。"
    assert (len(notes), any("立即拨打120" in n for n in notes)) == (
        (2, True) if advice else (1, False)
    )
    assert sent["supportingInfo"] == [
        {
            "display": "ECG-0301.pdf (application/pdf, 182044 bytes)",
            "identifier": {"system": ATTACHMENT_SYSTEM, "value": ECG_SHA256},
        }
    ]


async def test_a_minimal_referral_is_valid_fhir_too(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    bare = referral(
        patient=ReferralPatient(full_name="王芳", date_of_birth=dt.date(1990, 1, 1)),
        referring_doctor=ReferringDoctor(full_name="赵磊", licence_number="X1", hospital="某诊所"),
        clinical_summary=" ",
        attachments=(),
    )
    decision = await hospital.accept_referral(bare)
    assert decision.status == "received"
    sent = posts(fhir_server)[0].json()
    assert invalid_referral(sent) is None
    assert "note" not in sent and "supportingInfo" not in sent
    assert "gender" not in sent["contained"][0] and "telecom" not in sent["contained"][0]


async def test_outcomes_are_read_back_from_the_tasks_outputs(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = accepts
    reference = (await hospital.accept_referral(referral())).hospital_reference
    outputs = (
        output("seen", "已就诊，安排冠脉造影", "2026-03-03T10:05:00+08:00"),
        {"type": {"text": "影像报告"}, "valueString": "not an outcome"},
        output("admitted", "收入心内科病房", "2026-03-03T15:00:00+08:00"),
        output("referred-back", "PCI术后稳定出院；阿司匹林+氯吡格雷12个月，2周后社区复查血脂"),
    )
    fhir_server.add(
        task("t1", "sr-1", "completed", outputs=outputs, last_modified="2026-03-09T11:00:00+08:00")
    )
    status = await hospital.referral_status("ref-0001", reference)
    assert status.decision is not None and status.decision.status == "accepted"
    assert status.outcomes == (
        ReferralOutcome(
            status="seen",
            at=dt.datetime(2026, 3, 3, 10, 5, tzinfo=SHANGHAI),
            note="已就诊，安排冠脉造影",
            event_id="Task/t1/output/0",
        ),
        ReferralOutcome(
            status="admitted",
            at=dt.datetime(2026, 3, 3, 15, 0, tzinfo=SHANGHAI),
            note="收入心内科病房",
            event_id="Task/t1/output/2",
        ),
        ReferralOutcome(
            status="referred_back",
            at=dt.datetime(2026, 3, 9, 11, 0, tzinfo=SHANGHAI),  # a string: the Task's time
            summary="PCI术后稳定出院；阿司匹林+氯吡格雷12个月，2周后社区复查血脂",
            event_id="Task/t1/output/3",
        ),
    )


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("referred_back", "referred_back"),
        ("no-show", "no_show"),
        ("No Show", "no_show"),
        ("noshow", "no_show"),
        ("discharged", "discharged"),
    ],
)
async def test_outcome_codes_are_read_with_either_spelling(
    fhir_server: FhirServer, hospital: FhirHospital, kind: str, status: str
) -> None:
    fhir_server.decides = accepts
    await hospital.accept_referral(referral())
    fhir_server.add(task("t1", "sr-1", "completed", outputs=(output(kind, "x"),)))
    [found] = (await hospital.referral_status("ref-0001", "ServiceRequest/sr-1")).outcomes
    assert found.status == status


async def test_a_business_status_alone_is_one_outcome(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = accepts
    await hospital.accept_referral(referral())
    fhir_server.add(task("t1", "sr-1", "in-progress", business_status="admitted"))
    [found] = (await hospital.referral_status("ref-0001", "ServiceRequest/sr-1")).outcomes
    assert (found.status, found.event_id) == ("admitted", "Task/t1/businessStatus/admitted")
    assert found.at == dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


async def test_the_status_of_a_referral_is_found_by_its_id_without_a_reference(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = accepts
    await hospital.accept_referral(referral())
    status = await hospital.referral_status("ref-0001", None)
    assert status.decision is not None
    assert (status.decision.status, status.decision.hospital_reference) == (
        "accepted",
        "ServiceRequest/sr-1",
    )
    unknown = await hospital.referral_status("ref-9999", None)
    assert unknown.decision is not None
    assert (unknown.decision.status, unknown.decision.reason_code) == (
        "refused",
        "unknown_referral",
    )
    gone = await hospital.referral_status("ref-0001", "ServiceRequest/sr-404")
    assert gone.decision is not None and gone.decision.reason_code == "unknown_referral"


@pytest.mark.parametrize(
    ("reference", "says"),
    [
        ("Patient/1", "not a ServiceRequest reference"),
        ("ServiceRequest/../metadata", "not a ServiceRequest reference"),
        ("ServiceRequest/sr-1", "is not referral ref-0002"),
    ],
)
async def test_a_reference_that_is_not_this_referrals_is_an_error(
    fhir_server: FhirServer, hospital: FhirHospital, reference: str, says: str
) -> None:
    await hospital.accept_referral(referral())
    with pytest.raises(FhirError, match=says):
        await hospital.referral_status("ref-0002", reference)
    with pytest.raises(FhirError, match=says):
        await hospital.cancel_referral("ref-0002", reference, "x")
    assert fhir_server.updates == []


async def test_the_configured_ticket_system_names_the_green_channel_ticket(
    fhir_server: FhirServer, fhir_type: FhirHospitalType
) -> None:
    adapter = fhir_type.create(config(fhir_server.base_url, ticket_system=TICKET_SYSTEM))
    fhir_server.decides = lambda r: [
        task("t1", r["id"], "accepted"),
        appointment("a1", r["id"], ticket=None),
    ]
    try:
        waiting = await adapter.accept_referral(referral())
        fhir_server.add(appointment("a1", "sr-1", ticket="LS-7", location=None, version="2"))
        status = await adapter.referral_status("ref-0001", "ServiceRequest/sr-1")
    finally:
        await adapter.aclose()
    # Booked, but the hospital has not written the ticket yet: the patient cannot use it.
    assert (waiting.status, waiting.evidence["appointment_ticket"]) == ("received", "missing")
    assert status.decision is not None and status.decision.appointment is not None
    assert status.decision.appointment.ticket == "LS-7"
    assert status.decision.appointment.place == ""


async def test_without_a_ticket_system_the_first_identifier_is_the_ticket(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = lambda r: [
        task("t1", r["id"], "accepted"),
        appointment("a2", r["id"], start="2026-03-05T08:00:00+08:00", ticket=None),
        appointment("a1", r["id"], start="2026-03-04T08:00:00Z", ticket=None, department=None),
        appointment("a0", r["id"], start="2026-03-01T08:00:00+08:00", status="cancelled"),
    ]
    decision = await hospital.accept_referral(referral())
    assert decision.appointment is not None
    # The earliest booked one; a cancelled one does not count.
    assert decision.appointment.ticket == "APT-a1"
    assert decision.appointment.starts_at == dt.datetime(2026, 3, 4, 8, tzinfo=dt.UTC)
    assert decision.appointment.department == "心内科"  # the department asked for


async def test_cancelling_revokes_the_service_request_once(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.decides = accepts
    reference = (await hospital.accept_referral(referral())).hospital_reference
    await hospital.cancel_referral("ref-0001", reference, "患者已在本地住院")
    [revoked] = fhir_server.updates  # valid per fhir.resources, or the server refused it
    assert revoked["status"] == "revoked"
    assert revoked["note"][-1]["text"].endswith("患者已在本地住院")
    assert revoked["identifier"] == [{"system": REFERRAL_SYSTEM, "value": "ref-0001"}]
    [put] = [r for r in fhir_server.recorder.requests if r.method == "PUT"]
    assert put.headers["if-match"] == 'W/"1"'
    assert put.path == "/fhir/ServiceRequest/sr-1"

    await hospital.cancel_referral("ref-0001", reference, "again")
    await hospital.cancel_referral("ref-0001", None, "again, found by id")
    await hospital.cancel_referral("ref-9999", None, "never sent")
    await hospital.cancel_referral("ref-0001", "ServiceRequest/sr-404", "gone")
    assert len(fhir_server.updates) == 1
    status = await hospital.referral_status("ref-0001", reference)
    assert status.decision is not None
    assert (status.decision.status, status.decision.reason_code) == ("refused", "revoked")


async def test_a_referral_changed_meanwhile_is_not_overwritten(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    await hospital.accept_referral(referral())

    def changed_meanwhile(request: Recorded) -> Reply:
        reply = fhir_server.serve(request)
        if request.method == "GET" and urlsplit(request.path).path == "/fhir/ServiceRequest/sr-1":
            current = fhir_server.service_requests["sr-1"]
            fhir_server.service_requests["sr-1"] = {**current, "meta": {"versionId": "2"}}
        return reply

    fhir_server.override = changed_meanwhile
    with pytest.raises(FhirError, match="HTTP 412"):
        await hospital.cancel_referral("ref-0001", "ServiceRequest/sr-1", "x")
    assert fhir_server.updates == []


# -- servers that do not answer well ---------------------------------------------------------
def _server_error(request: Recorded) -> Reply:
    return Reply(status=500, body=outcome("HIS 数据库连接中断", in_details=True))


def _malformed_json(request: Recorded) -> Reply:
    return Reply(
        body='{"resourceType": "ServiceRequest", "id": ',
        headers={"content-type": "application/fhir+json"},
    )


def _bad_task(fhir_server: FhirServer) -> Any:
    """A Task whose status no FHIR model accepts."""

    def answer(request: Recorded) -> Reply:
        if urlsplit(request.path).path == "/fhir/Task":
            bad = task("t1", "sr-1", "accepted")
            bad["status"] = "approved"
            return Reply(body={"resourceType": "Bundle", "entry": [{"resource": bad}]})
        return fhir_server.serve(request)

    return answer


def _naive_start(fhir_server: FhirServer) -> Any:
    def answer(request: Recorded) -> Reply:
        if urlsplit(request.path).path == "/fhir/Appointment":
            bad = appointment("a1", "sr-1")
            bad["start"] = "2026-03-03T09:30:00"  # an instant needs its offset
            return Reply(body={"resourceType": "Bundle", "entry": [{"resource": bad}]})
        return fhir_server.serve(request)

    return answer


def _someone_elses(request: Recorded) -> Reply:
    if request.method == "POST":
        other = appointment("a1", "sr-1")  # not a ServiceRequest at all
        return Reply(status=201, body=other)
    return Reply(status=404, body=outcome("nothing"))


@pytest.mark.parametrize(
    ("server", "says"),
    [
        (lambda s: _server_error, "HTTP 500: HIS 数据库连接中断$"),
        (lambda s: _malformed_json, "malformed FHIR JSON"),
        (_bad_task, "malformed Task"),
        (_naive_start, "without an offset"),
        (lambda s: _someone_elses, "answered no resource"),
    ],
)
async def test_failing_and_malformed_servers_raise_a_clear_error(
    fhir_server: FhirServer, hospital: FhirHospital, server: Any, says: str
) -> None:
    fhir_server.decides = accepts
    fhir_server.override = server(fhir_server)
    with pytest.raises(FhirError, match=says):
        await hospital.accept_referral(referral())


@pytest.mark.parametrize(
    ("server", "says"),
    [
        (lambda s: _server_error, "HTTP 500: HIS 数据库连接中断$"),
        (lambda s: _malformed_json, "malformed FHIR JSON"),
        (_bad_task, "malformed Task"),
        (_naive_start, "without an offset"),
    ],
)
async def test_reading_the_status_on_a_failing_server_raises(
    fhir_server: FhirServer, hospital: FhirHospital, server: Any, says: str
) -> None:
    fhir_server.decides = accepts
    await hospital.accept_referral(referral())
    fhir_server.override = server(fhir_server)
    with pytest.raises(FhirError, match=says):
        await hospital.referral_status("ref-0001", "ServiceRequest/sr-1")


@pytest.mark.parametrize(
    ("server", "says"),
    [(_server_error, "HTTP 500: HIS 数据库连接中断$"), (_malformed_json, "malformed FHIR JSON")],
)
async def test_cancelling_on_a_failing_server_raises(
    fhir_server: FhirServer, hospital: FhirHospital, server: Any, says: str
) -> None:
    await hospital.accept_referral(referral())
    fhir_server.override = server
    with pytest.raises(FhirError, match=says):
        await hospital.cancel_referral("ref-0001", "ServiceRequest/sr-1", "x")
    assert fhir_server.updates == []


async def test_a_slow_server_times_out(
    fhir_server: FhirServer, fhir_type: FhirHospitalType
) -> None:
    fhir_server.override = lambda request: Reply(delay=3.0, body={})
    adapter = fhir_type.create(config(fhir_server.base_url, timeout_seconds=0.3))
    started = time.monotonic()
    try:
        for call in (
            adapter.accept_referral(referral()),
            adapter.referral_status("ref-0001", "ServiceRequest/sr-1"),
            adapter.cancel_referral("ref-0001", "ServiceRequest/sr-1", "x"),
        ):
            with pytest.raises(FhirError, match=f"^{UNREACHABLE}$"):
                await call
    finally:
        await adapter.aclose()
    assert time.monotonic() - started < 3


async def test_a_naive_request_time_is_refused_before_anything_is_sent(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    with pytest.raises(FhirError, match="timezone-aware"):
        await hospital.accept_referral(referral(requested_at=dt.datetime(2026, 3, 2, 8, 15)))  # noqa: DTZ001
    assert fhir_server.recorder.requests == []
