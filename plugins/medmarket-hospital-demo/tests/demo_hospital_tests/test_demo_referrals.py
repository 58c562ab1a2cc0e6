"""The demo hospital accepts referrals from its own calendar per department, and refuses them
when the calendar is full."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from typing import Any

import msgspec
import pytest
from medmarket_hospital_demo import DemoHospital, DemoHospitalConfig, DemoHospitalType

from medmarket import ReferralPatient, ReferralRequest, ReferringDoctor, Urgency

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Friday 4 December 2026, 10:00 in Hangzhou.
FRIDAY_10_00 = dt.datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI)
CLINIC: dict[str, Any] = {
    "department": "心内科",
    "place": "门诊楼3层 心内科 转诊门诊",
    "times": ["14:00", "09:00"],  # in any order
    "instructions": "空腹，带近期心电图",
}


def hospital(
    now: dt.datetime = FRIDAY_10_00, code: str | None = None, **clinic: object
) -> DemoHospital:
    """A hospital of its own (the calendar is process-wide, per hospital code) whose clock
    stands at ``now``."""
    config = msgspec.convert(
        {
            "hospital_code": code or f"T-{uuid.uuid4().hex[:8].upper()}",
            "referral_clinics": [{**CLINIC, **clinic}],
        },
        DemoHospitalConfig,
    )
    return DemoHospitalType(time_zone=SHANGHAI, now=lambda: now).create(config)


def referral(
    urgency: Urgency = "routine", department: str = "心内科", referral_id: str | None = None
) -> ReferralRequest:
    return ReferralRequest(
        referral_id=referral_id or f"rfl_{uuid.uuid4().hex}",
        department=department,
        urgency=urgency,
        reason="胸痛待查",
        clinical_summary="活动后胸闷两周",
        patient=ReferralPatient(full_name="张三", date_of_birth=dt.date(1961, 5, 2)),
        referring_doctor=ReferringDoctor(
            full_name="王医生", licence_number="110330100000777", hospital="社区卫生服务中心"
        ),
        requested_at=FRIDAY_10_00,
    )


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, 0, tzinfo=SHANGHAI)


async def test_a_routine_referral_gets_the_first_clinic_place_in_the_hospitals_time_zone() -> None:
    demo = hospital(weekdays=[1, 2, 3, 4, 5, 6, 7])
    request = referral()
    decision = await demo.accept_referral(request)
    assert decision.status == "accepted" and decision.appointment is not None
    appointment = decision.appointment
    # From the next day on: Saturday at the first clinic time, on Shanghai's clock.
    assert appointment.starts_at == at(5, 9)
    assert appointment.starts_at.utcoffset() == dt.timedelta(hours=8)
    assert appointment.starts_at.astimezone(dt.UTC) == dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)
    assert appointment.place == "门诊楼3层 心内科 转诊门诊"
    assert appointment.department == "心内科"
    assert appointment.instructions == "空腹，带近期心电图"
    code = demo.config.hospital_code
    assert re.fullmatch(rf"GC-{code}-[A-Z2-7]{{6}}", appointment.ticket)
    assert decision.hospital_reference == f"{code}/referral/1"
    status = await demo.referral_status(request.referral_id, decision.hospital_reference)
    assert status.decision == decision and status.outcomes == ()


async def test_a_full_calendar_refuses() -> None:
    demo = hospital(times=["09:00"], weekdays=[1], days_ahead=3)  # one place: Monday 09:00
    first = await demo.accept_referral(referral())
    assert first.appointment is not None and first.appointment.starts_at == at(7, 9)
    second = await demo.accept_referral(referral())
    assert second.status == "refused" and second.appointment is None
    assert second.reason_code == "department_full"
    assert second.reason and "心内科" in second.reason


async def test_more_places_per_time_take_more_patients_at_the_same_time() -> None:
    demo = hospital(times=["09:00"], weekdays=[1], places_per_time=2)
    starts = [(await demo.accept_referral(referral())).appointment for _ in range(3)]
    assert [a.starts_at for a in starts if a] == [at(7, 9), at(7, 9), at(14, 9)]


async def test_a_department_without_a_clinic_is_refused() -> None:
    decision = await hospital().accept_referral(referral(department="骨科"))
    assert decision.status == "refused" and decision.reason_code == "department_unknown"
    assert decision.hospital_reference is not None


async def test_the_department_is_matched_without_spaces_or_case() -> None:
    decision = await hospital().accept_referral(referral(department=" 心内 科"))
    assert decision.status == "accepted"


async def test_an_emergency_is_accepted_at_once_at_the_emergency_department() -> None:
    demo = hospital(times=["09:00"], weekdays=[1], days_ahead=3)
    decision = await demo.accept_referral(referral("emergency"))
    assert decision.status == "accepted" and decision.appointment is not None
    assert decision.appointment.starts_at == FRIDAY_10_00
    assert decision.appointment.place == "急诊科 (Emergency department)"
    assert decision.appointment.ticket.startswith(f"GC-{demo.config.hospital_code}-")
    # No calendar place was used: the one Monday place is still free.
    routine = await demo.accept_referral(referral())
    assert routine.appointment is not None and routine.appointment.starts_at == at(7, 9)


async def test_an_emergency_goes_to_the_configured_place_even_without_a_clinic() -> None:
    config = msgspec.convert(
        {"hospital_code": "T-ER", "emergency_place": "急诊楼1层 抢救室"}, DemoHospitalConfig
    )
    demo = DemoHospitalType(time_zone=SHANGHAI, now=lambda: FRIDAY_10_00).create(config)
    decision = await demo.accept_referral(referral("emergency", department="骨科"))
    assert decision.appointment is not None
    assert decision.appointment.place == "急诊楼1层 抢救室"


async def test_a_repeated_referral_id_takes_one_place_and_answers_the_same() -> None:
    demo = hospital(times=["09:00"], weekdays=[1], days_ahead=3)
    request = referral()
    first = await demo.accept_referral(request)
    again = await demo.accept_referral(request)
    assert again == first and first.status == "accepted"
    # An adapter rebuilt for the same hospital (its form saved again) knows it too.
    rebuilt = hospital(code=demo.config.hospital_code, times=["09:00"], weekdays=[1])
    assert await rebuilt.accept_referral(request) == first
    other = await demo.accept_referral(referral())
    assert other.reason_code == "department_full"


async def test_a_repeated_refusal_is_the_same_refusal() -> None:
    demo = hospital()
    request = referral(department="骨科")
    assert await demo.accept_referral(request) == await demo.accept_referral(request)


async def test_cancelling_frees_the_place_and_may_be_repeated() -> None:
    demo = hospital(times=["09:00"], weekdays=[1], days_ahead=3)
    request = referral()
    decision = await demo.accept_referral(request)
    assert (await demo.accept_referral(referral())).reason_code == "department_full"
    for _ in range(2):
        await demo.cancel_referral(request.referral_id, decision.hospital_reference, "病情好转")
    status = await demo.referral_status(request.referral_id, decision.hospital_reference)
    assert status.decision is None
    taken_again = await demo.accept_referral(referral())
    assert taken_again.appointment is not None and taken_again.appointment.starts_at == at(7, 9)
    await demo.cancel_referral("rfl_never_heard_of", None, "none")


async def test_a_referral_it_never_heard_of_has_no_decision() -> None:
    status = await hospital().referral_status("rfl_never_heard_of", None)
    assert status.decision is None and status.outcomes == ()


async def test_weekends_are_skipped_by_default() -> None:
    decision = await hospital().accept_referral(referral())  # Friday: next is Monday
    assert decision.appointment is not None and decision.appointment.starts_at == at(7, 9)


@pytest.mark.parametrize(
    ("now", "urgency", "starts_at"),
    [
        (FRIDAY_10_00, "urgent", at(4, 14)),  # today's afternoon clinic
        (FRIDAY_10_00, "routine", at(7, 9)),  # from the next day on: Monday
        (at(4, 8), "urgent", at(4, 9)),  # an hour ahead is soon enough
        (dt.datetime(2026, 12, 4, 13, 30, tzinfo=SHANGHAI), "urgent", at(7, 9)),  # too soon
        (dt.datetime(2026, 12, 3, 23, 30, tzinfo=dt.UTC), "routine", at(7, 9)),  # Fri in 上海
    ],
)
async def test_urgent_is_seen_from_now_and_routine_from_tomorrow(
    now: dt.datetime, urgency: Urgency, starts_at: dt.datetime
) -> None:
    decision = await hospital(now).accept_referral(referral(urgency))
    assert decision.appointment is not None and decision.appointment.starts_at == starts_at


async def test_nothing_is_offered_beyond_the_days_the_calendar_is_open() -> None:
    # Open 2 days from Friday: Saturday and Sunday, and the clinic works Mondays only.
    decision = await hospital(weekdays=[1], days_ahead=2).accept_referral(referral())
    assert decision.reason_code == "department_full"


@pytest.mark.parametrize(
    ("clinic", "field"),
    [
        ({"times": ["9:00"]}, "times[0]"),
        ({"times": ["24:00"]}, "times[0]"),
        ({"times": []}, "times"),
        ({"weekdays": [0]}, "weekdays[0]"),
        ({"weekdays": [1, 8]}, "weekdays[1]"),
        ({"places_per_time": 0}, "places_per_time"),
        ({"days_ahead": 0}, "days_ahead"),
        ({"place": ""}, "place"),
        ({"room": "3"}, "room"),
    ],
)
def test_a_bad_clinic_names_its_field(clinic: dict[str, object], field: str) -> None:
    config = {"hospital_code": "DEMO", "referral_clinics": [{**CLINIC, **clinic}]}
    with pytest.raises(msgspec.ValidationError, match=re.escape(field)):
        msgspec.convert(config, DemoHospitalConfig)


def test_a_department_has_one_calendar() -> None:
    config = {"hospital_code": "DEMO", "referral_clinics": [CLINIC, {**CLINIC, "place": "2"}]}
    with pytest.raises(msgspec.ValidationError, match="referral_clinics"):
        msgspec.convert(config, DemoHospitalConfig)


def test_the_referral_form_is_a_json_schema_with_its_defaults() -> None:
    schema = msgspec.json.decode(msgspec.json.encode(msgspec.json.schema(DemoHospitalConfig)))
    clinic = schema["$defs"]["ReferralClinic"]
    assert clinic["properties"]["weekdays"]["default"] == [1, 2, 3, 4, 5]
    assert clinic["properties"]["days_ahead"]["default"] == 14
    assert set(clinic["required"]) == {"department", "place", "times"}
