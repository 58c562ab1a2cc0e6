"""The prescription's own rules over every moment (hypothesis): it holds from the day it is
written to at most three days, by the platform's calendar in whatever zone that is; it is
written only during a visit or within the window after a completed one."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.prescriptions.validity import (
    MAX_VALID_DAYS,
    PrescribingClosed,
    expired,
    require_writable,
    validity,
    writing_closes_at,
)

ZONES = st.sampled_from(
    ["Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe"]
).map(zoneinfo.ZoneInfo)
# Any moment of twenty years, to the microsecond.
START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
MOMENTS = st.integers(min_value=0, max_value=20 * 365 * 86400 * 10**6).map(
    lambda us: START + dt.timedelta(microseconds=us)
)
DAYS = st.integers(min_value=1, max_value=MAX_VALID_DAYS)
STATUSES = st.sampled_from(
    ["scheduled", "waiting", "in_progress", "completed", "no_show", "terminated", "cancelled"]
)
OFFSETS = st.integers(min_value=-72 * 60, max_value=72 * 60).map(lambda m: dt.timedelta(minutes=m))
WINDOWS = st.integers(min_value=0, max_value=7 * 24).map(lambda h: dt.timedelta(hours=h))


@given(MOMENTS, DAYS, ZONES)
def test_it_holds_from_the_day_written_for_the_days_the_doctor_says(
    written_at: dt.datetime, days: int, calendar: zoneinfo.ZoneInfo
) -> None:
    valid = validity(written_at, days, calendar)
    assert valid.valid_from == written_at.astimezone(calendar).date()
    assert (valid.valid_until - valid.valid_from).days == days - 1
    # It ends exactly when the platform's day after the last one begins.
    assert valid.expires_at > written_at
    assert valid.expires_at.astimezone(calendar).date() == valid.valid_until + dt.timedelta(days=1)
    last_moment = valid.expires_at - dt.timedelta(microseconds=1)
    assert last_moment.astimezone(calendar).date() == valid.valid_until
    assert valid.expires_at - written_at <= dt.timedelta(days=days, hours=1)


@given(MOMENTS, DAYS, ZONES, OFFSETS)
def test_it_has_expired_once_its_last_day_is_over(
    written_at: dt.datetime, days: int, calendar: zoneinfo.ZoneInfo, later: dt.timedelta
) -> None:
    valid = validity(written_at, days, calendar)
    now = valid.expires_at + later
    assert expired(valid.expires_at, now) == (now.astimezone(calendar).date() > valid.valid_until)


@pytest.mark.parametrize("days", [0, 4, -1])
def test_no_prescription_holds_for_more_than_three_days_or_none(days: int) -> None:
    with pytest.raises(ValueError, match="1 to 3 days"):
        validity(dt.datetime(2026, 5, 1, tzinfo=dt.UTC), days, zoneinfo.ZoneInfo("UTC"))


@given(STATUSES, OFFSETS, WINDOWS)
def test_it_is_written_during_the_visit_or_within_the_window_after_completion(
    status: str, since_end: dt.timedelta, window: dt.timedelta
) -> None:
    ended_at = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
    now = ended_at + since_end
    ended = None if status in ("scheduled", "waiting", "in_progress") else ended_at
    allowed = status == "in_progress" or (status == "completed" and now < ended_at + window)
    if allowed:
        require_writable(status, ended, now, window)
        return
    with pytest.raises(PrescribingClosed) as refused:
        require_writable(status, ended, now, window)
    code = refused.value.errors[0].code
    if status in ("scheduled", "waiting"):
        assert code == "not-started"
    elif status == "completed":
        assert code == "window-passed"
        assert refused.value.extra["closed_at"] == (ended_at + window).isoformat()
    else:
        assert code == "not-completed"
    assert refused.value.status == 409 and refused.value.extra["status_now"] == status


def test_prescribing_ends_only_for_a_completed_visit() -> None:
    ended = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    window = dt.timedelta(hours=24)
    assert writing_closes_at("completed", ended, window) == ended + window
    assert writing_closes_at("in_progress", None, window) is None
    assert writing_closes_at("no_show", ended, window) is None
