"""When a prescription may be renewed without a call, over every moment and every kind of
prescription (hypothesis): within the window of the platform's days after its visit, in
whatever zone the platform's calendar is; only a chronic follow-up of a patient who still
has a chronic condition on record, that was neither voided, replaced nor rejected, by an
approved doctor who renews prescriptions; every reason named."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.prescriptions.renewals.eligibility import (
    Candidate,
    NotRenewable,
    reasons,
    renewable_until,
    require_renewable,
)

ZONES = st.sampled_from(
    ["Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe"]
).map(zoneinfo.ZoneInfo)
START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
MOMENTS = st.integers(min_value=0, max_value=20 * 365 * 86400 * 10**6).map(
    lambda us: START + dt.timedelta(microseconds=us)
)
WINDOWS = st.integers(min_value=1, max_value=366)
LATER = st.integers(min_value=0, max_value=400 * 86400 * 10**6).map(
    lambda us: dt.timedelta(microseconds=us)
)
CANDIDATES = st.builds(
    Candidate,
    status=st.sampled_from(["issued", "approved", "rejected", "dispensed", "voided"]),
    replaced_by=st.one_of(st.none(), st.just(uuid.UUID(int=7))),
    chronic_follow_up=st.booleans(),
    followed_up_since=MOMENTS,
    chronic_conditions=st.lists(st.sampled_from(["原发性高血压", "2型糖尿病"]), max_size=2).map(
        tuple
    ),
    doctor_status=st.sampled_from(["approved", "suspended"]),
    renewals_offered=st.booleans(),
)


@given(MOMENTS, WINDOWS, ZONES, LATER)
def test_renewable_through_the_last_day_of_the_window(
    since: dt.datetime, days: int, calendar: zoneinfo.ZoneInfo, later: dt.timedelta
) -> None:
    closes_at = renewable_until(since, days, calendar)
    last_day = since.astimezone(calendar).date() + dt.timedelta(days=days)
    # It closes exactly when the platform's day after the last one begins.
    assert closes_at.astimezone(calendar).date() == last_day + dt.timedelta(days=1)
    assert (closes_at - dt.timedelta(microseconds=1)).astimezone(calendar).date() == last_day
    # At least the window's days and at most one more, give or take a change of clocks.
    hour = dt.timedelta(hours=1)
    assert dt.timedelta(days=days) - hour < closes_at - since <= dt.timedelta(days=days + 1) + hour
    now = since + later
    assert (now < closes_at) == (now.astimezone(calendar).date() <= last_day)


@given(MOMENTS, WINDOWS, WINDOWS, ZONES)
def test_a_longer_window_never_closes_sooner(
    since: dt.datetime, days: int, more: int, calendar: zoneinfo.ZoneInfo
) -> None:
    shorter, longer = sorted((days, more))
    assert renewable_until(since, shorter, calendar) <= renewable_until(since, longer, calendar)


@given(CANDIDATES, LATER, WINDOWS, ZONES)
def test_every_reason_is_named_and_none_means_renewable(
    candidate: Candidate, later: dt.timedelta, days: int, calendar: zoneinfo.ZoneInfo
) -> None:
    now = candidate.followed_up_since + later
    expected = set()
    if candidate.status == "voided":
        expected.add("replaced" if candidate.replaced_by else "voided")
    if candidate.status == "rejected":
        expected.add("rejected")
    if not candidate.chronic_follow_up:
        expected.add("not-chronic-follow-up")
    if not candidate.chronic_conditions:
        expected.add("no-chronic-condition")
    if now >= renewable_until(candidate.followed_up_since, days, calendar):
        expected.add("window-passed")
    if candidate.doctor_status != "approved":
        expected.add("doctor-not-approved")
    elif not candidate.renewals_offered:
        expected.add("not-offered")
    found = reasons(candidate, now, days, calendar)
    assert {reason.code for reason in found} == expected
    assert all(reason.field and reason.message for reason in found)
    if not expected:
        require_renewable(candidate, now, days, calendar)
        return
    with pytest.raises(NotRenewable) as refused:
        require_renewable(candidate, now, days, calendar)
    problem = refused.value
    assert problem.status == 409 and problem.slug == "not-renewable"
    assert problem.errors == found and problem.detail == found[0].message
    closes_at = renewable_until(candidate.followed_up_since, days, calendar)
    assert problem.extra["renewable_until"] == closes_at.isoformat()
