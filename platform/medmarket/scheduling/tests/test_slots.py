"""Slot generation across time zones and daylight-saving changes (property tests)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Literal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from medmarket.scheduling.slots import (
    AvailabilityException,
    WeeklyWindow,
    generate_slots,
    wall_clock_to_utc,
)

UTC = dt.UTC
ZONES = [
    "Asia/Shanghai",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Chatham",
]
LENGTHS = [10, 15, 20, 30, 45, 60]

times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def windows(draw: st.DrawFn) -> WeeklyWindow:
    start = draw(times)
    end = draw(times.filter(lambda t: t > start))
    return WeeklyWindow(weekday=draw(st.integers(1, 7)), starts_at=start, ends_at=end)


@st.composite
def exceptions(draw: st.DrawFn, first: dt.date) -> AvailabilityException:
    day = first + dt.timedelta(days=draw(st.integers(0, 13)))
    kinds: list[Literal["unavailable", "extra"]] = ["unavailable", "extra"]
    kind = draw(st.sampled_from(kinds))
    if kind == "unavailable" and draw(st.booleans()):
        return AvailabilityException(on_date=day, kind="unavailable")
    start = draw(times)
    end = draw(times.filter(lambda t: t > start))
    return AvailabilityException(on_date=day, kind=kind, starts_at=start, ends_at=end)


# Two weeks that straddle a DST change somewhere: late March / late October / early April.
first_days = st.sampled_from(
    [
        dt.date(2026, 3, 22),
        dt.date(2026, 10, 18),
        dt.date(2026, 3, 31),
        dt.date(2026, 9, 1),
        dt.date(2026, 6, 10),
        dt.date(2027, 3, 7),
    ]
)


def real_interval(
    day: dt.date, start: dt.time, end: dt.time, zone: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    # Independent of the code under test: the RFC 5545 reading via fold=0.
    return (
        dt.datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
        dt.datetime.combine(day, end, tzinfo=zone).astimezone(UTC),
    )


@settings(max_examples=200, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    weekly=st.lists(windows(), max_size=6),
    length=st.sampled_from(LENGTHS),
    first=first_days,
    data=st.data(),
)
def test_slots_are_exact_disjoint_and_inside_availability(
    zone_name: str, weekly: list[WeeklyWindow], length: int, first: dt.date, data: st.DataObject
) -> None:
    zone = ZoneInfo(zone_name)
    extras = data.draw(st.lists(exceptions(first), max_size=4))
    last = first + dt.timedelta(days=13)
    slots = generate_slots(weekly, extras, zone, first, last, length)

    for slot in slots:
        assert slot.starts_at.tzinfo is not None and slot.starts_at.utcoffset() == dt.timedelta(0)
        assert slot.ends_at - slot.starts_at == dt.timedelta(minutes=length)
    for earlier, later in itertools.pairwise(slots):
        assert earlier.ends_at <= later.starts_at

    for slot in slots:
        day = slot.starts_at.astimezone(zone).date()
        candidates = [day, day - dt.timedelta(days=1), day + dt.timedelta(days=1)]
        inside = False
        blocked = False
        for d in candidates:
            todays = [e for e in extras if e.on_date == d]
            spans = [
                real_interval(d, w.starts_at, w.ends_at, zone)
                for w in weekly
                if w.weekday == d.isoweekday()
            ]
            spans += [
                real_interval(d, e.starts_at, e.ends_at, zone)
                for e in todays
                if e.kind == "extra" and e.starts_at and e.ends_at
            ]
            if any(a <= slot.starts_at and slot.ends_at <= b for a, b in _merged(spans)):
                inside = True
                for off in todays:
                    if off.kind != "unavailable":
                        continue
                    if off.starts_at is None or off.ends_at is None:
                        blocked = True
                        continue
                    a, b = real_interval(d, off.starts_at, off.ends_at, zone)
                    if slot.starts_at < b and a < slot.ends_at:
                        blocked = True
        assert inside, slot
        assert not blocked, slot


@settings(max_examples=200, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    window=windows(),
    length=st.sampled_from(LENGTHS),
    first=first_days,
)
def test_a_window_holds_as_many_slots_as_its_real_duration_allows(
    zone_name: str, window: WeeklyWindow, length: int, first: dt.date
) -> None:
    zone = ZoneInfo(zone_name)
    last = first + dt.timedelta(days=13)
    slots = generate_slots([window], [], zone, first, last, length)
    expected = 0
    day = first
    while day <= last:
        if day.isoweekday() == window.weekday:
            a, b = real_interval(day, window.starts_at, window.ends_at, zone)
            expected += max(0, int((b - a) / dt.timedelta(minutes=length)))
        day += dt.timedelta(days=1)
    assert len(slots) == expected


@settings(max_examples=100, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    weekly=st.lists(windows(), max_size=4),
    length=st.sampled_from(LENGTHS),
    first=first_days,
    split=st.integers(1, 12),
)
def test_generating_in_parts_gives_the_same_slots(
    zone_name: str, weekly: list[WeeklyWindow], length: int, first: dt.date, split: int
) -> None:
    zone = ZoneInfo(zone_name)
    last = first + dt.timedelta(days=13)
    middle = first + dt.timedelta(days=split)
    whole = generate_slots(weekly, [], zone, first, last, length)
    parts = generate_slots(weekly, [], zone, first, middle, length) + generate_slots(
        weekly, [], zone, middle + dt.timedelta(days=1), last, length
    )
    assert whole == sorted(set(parts))


def _merged(
    spans: list[tuple[dt.datetime, dt.datetime]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def test_clocks_going_forward_shorten_the_window() -> None:
    london = ZoneInfo("Europe/London")
    sunday = dt.date(2026, 3, 29)  # 01:00 GMT becomes 02:00 BST
    slots = generate_slots(
        [WeeklyWindow(7, dt.time(0, 30), dt.time(2, 30))], [], london, sunday, sunday, 30
    )
    assert [s.starts_at.strftime("%H:%M") for s in slots] == ["00:30", "01:00"]


def test_clocks_going_back_lengthen_the_window() -> None:
    london = ZoneInfo("Europe/London")
    sunday = dt.date(2026, 10, 25)  # 02:00 BST becomes 01:00 GMT
    slots = generate_slots(
        [WeeklyWindow(7, dt.time(0, 30), dt.time(2, 30))], [], london, sunday, sunday, 60
    )
    assert len(slots) == 3
    assert slots[0].starts_at == dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC)


def test_a_time_inside_the_gap_is_read_with_the_offset_before_it() -> None:
    new_york = ZoneInfo("America/New_York")
    instant = wall_clock_to_utc(dt.date(2026, 3, 8), dt.time(2, 30), new_york)
    assert instant == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_shanghai_has_no_surprises() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    monday = dt.date(2026, 11, 23)
    slots = generate_slots(
        [WeeklyWindow(1, dt.time(9), dt.time(12))],
        [AvailabilityException(monday, "unavailable", dt.time(10), dt.time(11))],
        shanghai,
        monday,
        monday,
        30,
    )
    assert [s.starts_at.astimezone(shanghai).strftime("%H:%M") for s in slots] == [
        "09:00",
        "09:30",
        "11:00",
        "11:30",
    ]
