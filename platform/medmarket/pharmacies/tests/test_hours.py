"""Opening hours: windows that close after they open and do not overlap on their day, sorted;
a form's day written as text reads back as it was written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.errors import InvalidInput
from medmarket.pharmacies.hours import checked, format_day, minutes, parse_day
from medmarket.pharmacies.schemas import OpeningWindow


def wall(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


windows = st.builds(
    lambda weekday, start, length: OpeningWindow(
        weekday=weekday, opens=wall(start), closes=wall(min(start + length, 1440))
    ),
    st.integers(1, 7),
    st.integers(0, 1439),
    st.integers(1, 720),
)


def overlap(a: OpeningWindow, b: OpeningWindow) -> bool:
    return a.weekday == b.weekday and (
        minutes(a.opens) < minutes(b.closes) and minutes(b.opens) < minutes(a.closes)
    )


@given(st.lists(windows, max_size=8))
def test_checked_accepts_exactly_the_weeks_without_overlaps(week: list[OpeningWindow]) -> None:
    clashes = any(overlap(a, b) for i, a in enumerate(week) for b in week[i + 1 :])
    if clashes:
        with pytest.raises(InvalidInput) as refused:
            checked(week)
        assert all(e.code == "overlaps" for e in refused.value.errors)
    else:
        kept = checked(week)
        assert sorted(kept, key=lambda w: (w.weekday, w.opens)) == kept
        assert sorted(map(repr, kept)) == sorted(map(repr, week))


@given(st.lists(windows, max_size=4))
def test_a_day_reads_back_as_the_form_writes_it(week: list[OpeningWindow]) -> None:
    for weekday in range(1, 8):
        day = [w for w in week if w.weekday == weekday]
        assert parse_day(weekday, format_day(day, weekday)) == day


def test_a_window_that_closes_before_it_opens_is_named() -> None:
    with pytest.raises(InvalidInput) as refused:
        checked([OpeningWindow(weekday=1, opens="09:00", closes="09:00")])
    assert refused.value.errors[0].field == "opening_hours[0].closes"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("8:30-12:00，14:00 至 24:00", [("08:30", "12:00"), ("14:00", "24:00")]),
        ("00:00~24:00", [("00:00", "24:00")]),
    ],
)
def test_a_day_as_people_write_it(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(w.opens, w.closes) for w in parse_day(3, text)] == expected


@pytest.mark.parametrize("text", ["8-12", "08:00-25:00", "24:00-24:00", "08:00-24:30", "全天"])
def test_a_day_not_written_as_windows_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"08:00-12:00|time of day|24:00"):
        parse_day(1, text)
