"""The credential rules as properties: three full years of independent practice (29 February
included), a licence valid through its expiry day, approval only when every check passed."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from medmarket.doctors import checks as rules
from medmarket.doctors import messages
from medmarket.doctors.reverification import reminder_window
from medmarket.hospitals.interface import AffiliationVerification, LicenceVerification

dates = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31))


def anniversary(start: dt.date, years: int) -> dt.date:
    """The same day ``years`` later; 29 February falls on 1 March in common years."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return dt.date(start.year + years, 3, 1)


def answer(
    *,
    started: dt.date | None = dt.date(2010, 1, 1),
    expires: dt.date | None = dt.date(2040, 1, 1),
    title: str = "主治医师",
    affiliated: bool = True,
    ends_on: dt.date | None = None,
) -> rules.HospitalAnswer:
    return rules.HospitalAnswer(
        licence=LicenceVerification(
            valid=True,
            title=title,  # type: ignore[arg-type]
            practice_started_on=started,
            licence_expires_on=expires,
        ),
        affiliation=AffiliationVerification(affiliated=affiliated, ends_on=ends_on),
    )


@given(dates, st.integers(min_value=0, max_value=80))
def test_full_years_reach_n_on_the_nth_anniversary(start: dt.date, years: int) -> None:
    day = anniversary(start, years)
    assert rules.full_years(start, day) == years
    if years > 0:
        assert rules.full_years(start, day - dt.timedelta(days=1)) == years - 1


@given(dates, dates)
def test_practice_passes_exactly_from_the_third_anniversary(
    started: dt.date, today: dt.date
) -> None:
    [check] = [
        r
        for r in rules.evaluate(answer(started=started), "主治医师", today)
        if r.kind == "practice_years"
    ]
    assert (check.outcome == "passed") == (anniversary(started, 3) <= today)
    assert check.outcome in ("passed", "failed")


def test_two_years_and_364_days_are_not_three_years() -> None:
    started = dt.date(2021, 3, 1)
    today = dt.date(2024, 2, 29)
    [check] = [
        r
        for r in rules.evaluate(answer(started=started), "主治医师", today)
        if r.kind == "practice_years"
    ]
    assert (check.outcome, check.params["years"]) == ("failed", 2)


@given(dates, dates)
def test_a_licence_is_valid_through_its_expiry_day(expires: dt.date, today: dt.date) -> None:
    [check] = [
        r
        for r in rules.evaluate(answer(expires=expires), "主治医师", today)
        if r.kind == "licence_unexpired"
    ]
    assert (check.outcome == "passed") == (expires >= today)


@given(
    started=st.one_of(st.none(), dates),
    expires=st.one_of(st.none(), dates),
    title=st.sampled_from(["主任医师", "副主任医师", "主治医师", "住院医师"]),
    affiliated=st.booleans(),
    ends_on=st.one_of(st.none(), dates),
    today=dates,
)
def test_approval_needs_every_check_to_pass(
    started: dt.date | None,
    expires: dt.date | None,
    title: str,
    affiliated: bool,
    ends_on: dt.date | None,
    today: dt.date,
) -> None:
    results = rules.evaluate(
        answer(
            started=started, expires=expires, title=title, affiliated=affiliated, ends_on=ends_on
        ),
        "主治医师",
        today,
    )
    assert [r.kind for r in results] == list(rules.CHECK_KINDS)
    qualified = (
        started is not None
        and anniversary(started, 3) <= today
        and expires is not None
        and expires >= today
        and title == "主治医师"
        and affiliated
        and (ends_on is None or ends_on >= today)
    )
    assert (rules.overall(results) == "passed") == qualified


def test_no_answer_decides_nothing() -> None:
    silence = rules.HospitalAnswer(
        licence_error="hospital_unavailable",
        affiliation_error="hospital_unavailable",
        error_detail={"licence": "down", "affiliation": "down"},
    )
    results = rules.evaluate(silence, "主治医师", dt.date(2026, 1, 1))
    assert {r.outcome for r in results} == {"inconclusive"}
    assert rules.overall(results) == "inconclusive"
    assert results[0].evidence == {"error": "down"}


def test_evidence_that_is_not_json_is_kept_readable() -> None:
    assert rules.safe_evidence({"when": dt.date(2026, 1, 2)}) == {"when": "2026-01-02"}
    assert "unreadable" in rules.safe_evidence({"thing": object()})
    huge = rules.safe_evidence({"blob": "x" * (rules.MAX_EVIDENCE_CHARS + 1)})
    assert huge["truncated"] is True


@given(dates, st.integers(min_value=-5, max_value=60))
def test_expiry_reminders_fall_in_the_smallest_window(today: dt.date, days_left: int) -> None:
    window = reminder_window(today + dt.timedelta(days=days_left), today)
    expected = None if days_left < 0 else 7 if days_left <= 7 else 30 if days_left <= 30 else None
    assert window == expected


REASON_CODES = {
    "application_saved",
    "application_submitted",
    "verification_started",
    "all_checks_passed",
    "checks_need_review",
    "application_reopened",
    "recheck_requested",
    "operator_decision",
    "affiliation_ended_by_hospital",
    "licence_invalid",
    "licence_expired",
    "affiliation_ended",
    "not_affiliated",
    "licence_expiring",
}


@given(
    started=st.one_of(st.none(), dates),
    expires=st.one_of(st.none(), dates),
    affiliated=st.booleans(),
    ends_on=st.one_of(st.none(), dates),
    title=st.sampled_from(["主任医师", "住院医师"]),
    today=dates,
)
def test_every_check_result_reads_in_both_languages(
    started: dt.date | None,
    expires: dt.date | None,
    affiliated: bool,
    ends_on: dt.date | None,
    title: str,
    today: dt.date,
) -> None:
    results = rules.evaluate(
        answer(
            started=started, expires=expires, affiliated=affiliated, ends_on=ends_on, title=title
        ),
        "主任医师",
        today,
    )
    for result in results:
        for locale in ("zh-CN", "en"):
            text = messages.render(result.code, result.params, locale)
            assert text != result.code and "{" not in text, (result.code, locale)


def test_every_reason_reads_in_both_languages() -> None:
    params = {
        "expires_on": "2030-01-01",
        "days_left": 5,
        "ends_on": "2030-01-01",
        "kinds": ["title"],
    }
    for code in REASON_CODES:
        for locale in ("zh-CN", "en"):
            text = messages.render(code, params, locale)
            assert text != code and "{" not in text, (code, locale)
    assert (
        messages.render("checks_need_review", {"kinds": ["title", "affiliation"]}, "en").count(
            "title, affiliation"
        )
        == 1
    )
    assert messages.render("unknown_code", {}, "en") == "unknown_code"
