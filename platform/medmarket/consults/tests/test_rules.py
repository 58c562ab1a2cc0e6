"""The consultation's rules as plain functions, over every state and moment (hypothesis): when
the room is open, and which endings the doctor may record."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.consults.schemas import ENDED
from medmarket.consults.service import ConsultationOver, Consultations, RoomNotOpen, require_live
from medmarket.errors import Conflict, ServiceUnavailable

STATUSES = ["scheduled", "waiting", "in_progress", *sorted(ENDED)]
OUTCOMES = ["completed", "first_visit_unsuitable", "patient_no_show"]
START = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)
PATIENT = "patient-account"

minutes = st.integers(min_value=-300, max_value=300).map(lambda m: dt.timedelta(minutes=m))
lengths = st.sampled_from([15, 30, 60]).map(lambda m: dt.timedelta(minutes=m))


def row(status: str, length: dt.timedelta) -> dict[str, object]:
    return {"status": status, "starts_at": START, "ends_at": START + length, "booked_by": PATIENT}


@given(st.sampled_from(STATUSES), lengths, minutes)
def test_the_room_is_open_from_fifteen_minutes_early_to_thirty_after(
    status: str, length: dt.timedelta, offset: dt.timedelta
) -> None:
    now = START + offset
    if status in ENDED:
        expected: type[Exception] | None = ConsultationOver
    elif now < START - dt.timedelta(minutes=15) or now >= START + length + dt.timedelta(minutes=30):
        expected = RoomNotOpen
    else:
        expected = None
    if expected is None:
        require_live(row(status, length), now)  # type: ignore[arg-type]
    else:
        with pytest.raises(expected):
            require_live(row(status, length), now)  # type: ignore[arg-type]


@given(
    st.sampled_from(STATUSES),
    st.sampled_from(OUTCOMES),
    minutes,
    st.sampled_from([None, set(), {PATIENT}, {"someone-else"}]),
)
def test_which_endings_the_doctor_may_record(
    status: str, outcome: str, offset: dt.timedelta, present: set[str] | None
) -> None:
    now = START + offset

    def allowed() -> type[Exception] | None:
        if status in ENDED:
            return ConsultationOver
        if outcome != "patient_no_show":
            return None if status == "in_progress" else Conflict
        if status == "in_progress" or now < START + dt.timedelta(minutes=10):
            return Conflict
        if present is None:
            return ServiceUnavailable  # cannot tell: never guess against the patient
        return Conflict if PATIENT in present else None

    check = Consultations._check_outcome
    expected = allowed()
    if expected is None:
        check(row(status, dt.timedelta(minutes=30)), outcome, present, now)  # type: ignore[arg-type]
    else:
        with pytest.raises(expected):
            check(row(status, dt.timedelta(minutes=30)), outcome, present, now)  # type: ignore[arg-type]
