"""Slot arithmetic: from weekly windows and exceptions in a doctor's time zone to slots in UTC.

A window is wall-clock time on a local date ("Mondays 09:00-12:00 in Europe/London"). Its
real interval runs from the instant the wall clock shows the start to the instant it shows
the end (see ``wall_clock_to_utc`` for times that do not exist or occur twice); slots tile
that real interval from its start, each exactly ``slot_minutes`` long in real time. So on
the night clocks go back a window of 00:30-02:30 holds three hours of slots, and on the
night they go forward it holds one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True)
class WeeklyWindow:
    weekday: int  # ISO: Monday = 1 ... Sunday = 7
    starts_at: dt.time
    ends_at: dt.time


@dataclass(frozen=True)
class AvailabilityException:
    on_date: dt.date
    kind: Literal["unavailable", "extra"]
    # None for "unavailable" means the whole day.
    starts_at: dt.time | None = None
    ends_at: dt.time | None = None


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: dt.datetime  # aware, UTC
    ends_at: dt.datetime


def wall_clock_to_utc(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The instant the wall clock in ``zone`` shows ``day`` ``at``, as RFC 5545 resolves it:
    a time that occurs twice means its first occurrence, and a time inside a spring-forward
    gap is read with the offset before the gap (02:30 in a 02:00-03:00 gap is 03:30).
    Python's ``fold=0`` is exactly that rule."""
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def window_interval(
    day: dt.date, starts_at: dt.time, ends_at: dt.time, zone: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    return wall_clock_to_utc(day, starts_at, zone), wall_clock_to_utc(day, ends_at, zone)


def _subtract(
    intervals: list[tuple[dt.datetime, dt.datetime]], cut: tuple[dt.datetime, dt.datetime]
) -> list[tuple[dt.datetime, dt.datetime]]:
    left: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in intervals:
        if cut[1] <= start or cut[0] >= end:
            left.append((start, end))
            continue
        if start < cut[0]:
            left.append((start, cut[0]))
        if cut[1] < end:
            left.append((cut[1], end))
    return left


def _merge(
    intervals: Iterable[tuple[dt.datetime, dt.datetime]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def open_intervals(
    day: dt.date,
    weekly: Sequence[WeeklyWindow],
    exceptions: Sequence[AvailabilityException],
    zone: ZoneInfo,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The real (UTC) intervals a doctor is available on local date ``day``."""
    todays = [e for e in exceptions if e.on_date == day]
    intervals = [
        window_interval(day, w.starts_at, w.ends_at, zone)
        for w in weekly
        if w.weekday == day.isoweekday()
    ]
    for extra in todays:
        if extra.kind == "extra" and extra.starts_at and extra.ends_at:
            intervals.append(window_interval(day, extra.starts_at, extra.ends_at, zone))
    intervals = _merge(intervals)
    for off in todays:
        if off.kind != "unavailable":
            continue
        if off.starts_at is None or off.ends_at is None:
            return []
        intervals = _subtract(intervals, window_interval(day, off.starts_at, off.ends_at, zone))
    return intervals


def generate_slots(
    weekly: Sequence[WeeklyWindow],
    exceptions: Sequence[AvailabilityException],
    zone: ZoneInfo,
    first_day: dt.date,
    last_day: dt.date,
    slot_minutes: int,
) -> list[Slot]:
    """Every slot from ``first_day`` to ``last_day`` (local dates, inclusive), sorted."""
    if slot_minutes <= 0:
        raise ValueError("slot_minutes must be positive")
    length = dt.timedelta(minutes=slot_minutes)
    slots: list[Slot] = []
    for day in _days(first_day, last_day):
        for start, end in open_intervals(day, weekly, exceptions, zone):
            at = start
            while at + length <= end:
                slots.append(Slot(at, at + length))
                at += length
    return sorted(set(slots))


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)
