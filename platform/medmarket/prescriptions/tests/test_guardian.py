"""Children: age in whole years on the day written (29 February birthdays reached on 1 March
in common years), and a child younger than the limit only with the guardian present."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.prescriptions.interface import Limits
from medmarket.prescriptions.rules.guardian import age_on, guardian
from medmarket.prescriptions.tests.strategies import draft_of, limits, patient_of


def birthday_in(year: int, born: dt.date) -> dt.date:
    if (born.month, born.day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 3, 1)
    return born.replace(year=year)


days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))


@given(born=days, day=days)
def test_age_is_the_number_of_birthdays_passed(born: dt.date, day: dt.date) -> None:
    if day < born:
        assert age_on(born, day) < 0
        return
    birthdays = sum(
        1 for year in range(born.year + 1, day.year + 1) if birthday_in(year, born) <= day
    )
    assert age_on(born, day) == birthdays


@given(born=days, day=days)
def test_age_grows_by_one_on_the_birthday(born: dt.date, day: dt.date) -> None:
    if day.year <= born.year or day.year >= 2200:
        return
    birthday = birthday_in(day.year, born)
    assert age_on(born, birthday) == age_on(born, birthday - dt.timedelta(days=1)) + 1


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (dt.date(2026, 2, 28), 5),
        (dt.date(2026, 3, 1), 6),
        (dt.date(2028, 2, 28), 7),
        (dt.date(2028, 2, 29), 8),
    ],
)
def test_a_leap_day_child(day: dt.date, age: int) -> None:
    assert age_on(dt.date(2020, 2, 29), day) == age


@given(
    born=days,
    day=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2040, 1, 1)),
    present=st.booleans(),
    allowed=limits(),
)
def test_a_child_under_the_limit_needs_the_guardian_present(
    born: dt.date, day: dt.date, present: bool, allowed: Limits
) -> None:
    findings = list(
        guardian(
            draft_of(written_on=day),
            patient_of(date_of_birth=born, guardian_present=present),
            allowed,
        )
    )
    if born > day:
        assert [f.severity for f in findings] == ["error"]
        assert "晚于处方日期" in findings[0].message_zh
    else:
        child = age_on(born, day) < allowed.guardian_age_years
        assert len(findings) == (child and not present)
        for finding in findings:
            assert (finding.rule, finding.severity, finding.item) == ("guardian", "error", None)
            assert f"未满 {allowed.guardian_age_years} 周岁" in finding.message_zh


def test_the_day_before_the_sixth_birthday_and_the_day() -> None:
    child = patient_of(date_of_birth=dt.date(2020, 12, 3))
    [finding] = guardian(draft_of(written_on=dt.date(2026, 12, 2)), child, Limits())
    assert finding.message_zh == (
        "患者 5 岁，未满 6 周岁，须有监护人在场才能开具处方；请在监护人加入问诊后再开具。"
    )
    assert finding.message_en == (
        "The patient is 5, younger than 6: a prescription needs their guardian in the "
        "consultation. Prescribe once the guardian has joined."
    )
    assert list(guardian(draft_of(written_on=dt.date(2026, 12, 3)), child, Limits())) == []
