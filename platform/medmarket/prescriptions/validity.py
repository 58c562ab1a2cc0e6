"""When a consultation's doctor may prescribe, and for how long a prescription holds: pure
functions of the consultation's state, the clock and the platform's calendar, proved with
hypothesis (tests/test_validity.py).

A prescription is written while the visit is in progress, or within a window after it
ended as completed (MEDMARKET_PRESCRIPTION_WINDOW_HOURS): never before the visit, and never
after one that did not take place as a visit (a no-show, a cancellation, or a first visit
found unsuitable online, which is referred instead). It holds on the day it is written, by
the platform's calendar, or up to three days when the doctor says so (处方管理办法: 处方开具
当日有效, extended by the doctor to at most three days).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import msgspec

from medmarket.errors import Conflict

MAX_VALID_DAYS = 3
NOT_STARTED = frozenset({"scheduled", "waiting"})
NOT_A_VISIT = frozenset({"no_show", "terminated", "cancelled"})


class PrescribingClosed(Conflict):
    """The consultation is not (or no longer) one its doctor may prescribe in; ``code`` says
    why: ``not-started``, ``not-completed`` or ``window-passed``."""

    slug, title = "prescribing-closed", "Prescriptions cannot be written for this visit now"


class Validity(msgspec.Struct, frozen=True, kw_only=True):
    # The platform's days the prescription holds on, both included.
    valid_from: dt.date
    valid_until: dt.date
    # The first instant it no longer holds: the start of the day after valid_until.
    expires_at: dt.datetime


def validity(written_at: dt.datetime, days: int, calendar: zoneinfo.ZoneInfo) -> Validity:
    """The validity of a prescription written at ``written_at`` (aware) for ``days`` days
    (1: the day written; at most ``MAX_VALID_DAYS``) on ``calendar``."""
    if not 1 <= days <= MAX_VALID_DAYS:
        raise ValueError(f"a prescription holds 1 to {MAX_VALID_DAYS} days, not {days}")
    valid_from = written_at.astimezone(calendar).date()
    valid_until = valid_from + dt.timedelta(days=days - 1)
    next_day = dt.datetime.combine(valid_until + dt.timedelta(days=1), dt.time(), calendar)
    return Validity(
        valid_from=valid_from, valid_until=valid_until, expires_at=next_day.astimezone(dt.UTC)
    )


def expired(expires_at: dt.datetime, now: dt.datetime) -> bool:
    return now >= expires_at


def writing_closes_at(
    status: str, ended_at: dt.datetime | None, window: dt.timedelta
) -> dt.datetime | None:
    """When prescribing ends for a completed visit; None while it is in progress (or when
    it is not one that may be prescribed in at all)."""
    if status == "completed" and ended_at is not None:
        return ended_at + window
    return None


def require_writable(
    status: str, ended_at: dt.datetime | None, now: dt.datetime, window: dt.timedelta
) -> None:
    """Raise PrescribingClosed unless the visit is in progress, or was completed less than
    ``window`` before ``now``."""
    if status == "in_progress":
        return
    if status in NOT_STARTED:
        raise PrescribingClosed(
            "prescriptions are written once the doctor has admitted the patient",
            field="status",
            code="not-started",
            status_now=status,
        )
    closes_at = writing_closes_at(status, ended_at, window)
    if closes_at is None or status in NOT_A_VISIT:
        raise PrescribingClosed(
            f"this consultation ended as {status}: nothing is prescribed for it",
            field="status",
            code="not-completed",
            status_now=status,
        )
    if now >= closes_at:
        raise PrescribingClosed(
            "the time to prescribe for this visit has passed: book a follow-up",
            field="status",
            code="window-passed",
            status_now=status,
            closed_at=closes_at.isoformat(),
        )
