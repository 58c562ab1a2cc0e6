"""Whether a prescription may be renewed without a call: a pure function of the prescription,
the patient's record, its doctor and the clock, proved with hypothesis
(tests/test_eligibility.py).

A prescription is renewed only when the doctor wrote it as the follow-up of a chronic disease
and the patient still has one on record; when it still stands or has simply run its course
(a voided, replaced or rejected one is not renewed: the doctor or a pharmacist decided
against it); within MEDMARKET_RENEWAL_WINDOW_DAYS of the platform's days after the visit it
comes from (``renewable_until``); and while its doctor is approved and offers renewals. A
renewal of a renewal comes from the same visit, so renewing never restarts the window: the
patient sees the doctor again at least that often.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import msgspec

from medmarket.errors import Conflict, FieldError


class NotRenewable(Conflict):
    """The prescription cannot be renewed without a call; ``errors`` names every reason (its
    ``code``) and ``detail`` the first."""

    slug, title = "not-renewable", "This prescription cannot be renewed without a visit"


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """What decides whether a prescription may be renewed now."""

    status: str  # the prescription's (issued, approved, rejected, dispensed, voided)
    replaced_by: uuid.UUID | None  # the version that corrected a voided one
    chronic_follow_up: bool
    # When the visit's prescription was written: this one, or the one a renewal renews.
    followed_up_since: dt.datetime
    chronic_conditions: tuple[str, ...]  # on the patient's record now
    doctor_status: str
    renewals_offered: bool  # the doctor has an active renewal price


def renewable_until(
    since: dt.datetime, window_days: int, calendar: zoneinfo.ZoneInfo
) -> dt.datetime:
    """The first instant a prescription of a visit at ``since`` (aware) may no longer be
    renewed: the start of the platform's day ``window_days`` days after the day of ``since``
    has ended."""
    last_day = since.astimezone(calendar).date() + dt.timedelta(days=window_days)
    return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), calendar).astimezone(
        dt.UTC
    )


def reasons(
    candidate: Candidate, now: dt.datetime, window_days: int, calendar: zoneinfo.ZoneInfo
) -> list[FieldError]:
    """Every reason the prescription may not be renewed now; none: it may."""
    found: list[FieldError] = []
    if candidate.status == "voided" and candidate.replaced_by is not None:
        found.append(
            FieldError(
                "prescription_id",
                f"this prescription was corrected: renew {candidate.replaced_by}",
                "replaced",
            )
        )
    elif candidate.status == "voided":
        found.append(FieldError("prescription_id", "the doctor voided this prescription", "voided"))
    elif candidate.status == "rejected":
        found.append(
            FieldError("prescription_id", "a pharmacist rejected this prescription", "rejected")
        )
    if not candidate.chronic_follow_up:
        found.append(
            FieldError(
                "chronic_follow_up",
                "only the follow-up of a chronic disease is renewed without a visit",
                "not-chronic-follow-up",
            )
        )
    if not candidate.chronic_conditions:
        found.append(
            FieldError(
                "chronic_conditions",
                "your health record names no chronic condition now",
                "no-chronic-condition",
            )
        )
    closes_at = renewable_until(candidate.followed_up_since, window_days, calendar)
    if now >= closes_at:
        found.append(
            FieldError(
                "written_at",
                f"more than {window_days} days have passed since the visit: book one",
                "window-passed",
            )
        )
    if candidate.doctor_status != "approved":
        found.append(
            FieldError("doctor_id", "this doctor is not seeing patients now", "doctor-not-approved")
        )
    elif not candidate.renewals_offered:
        found.append(
            FieldError(
                "doctor_id", "this doctor does not renew prescriptions online", "not-offered"
            )
        )
    return found


def require_renewable(
    candidate: Candidate, now: dt.datetime, window_days: int, calendar: zoneinfo.ZoneInfo
) -> None:
    """Raise NotRenewable naming every reason, unless the prescription may be renewed now."""
    found = reasons(candidate, now, window_days, calendar)
    if found:
        closes_at = renewable_until(candidate.followed_up_since, window_days, calendar)
        raise NotRenewable(found[0].message, errors=found, renewable_until=closes_at.isoformat())
