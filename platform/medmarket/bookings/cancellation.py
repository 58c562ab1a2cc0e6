"""What a patient gets back when they cancel (the doctor's policy, applied at one moment),
from when a doctor may end a visit, and so what each may do with a booking now.

The same rules decide what ``endings`` does and what the API and the pages offer
(``BookingOut.actions``) before anyone confirms, so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from medmarket.bookings.schemas import Action, BookingOut

LIVE = ("held", "confirmed")
# A doctor may record a visit's outcome from this long before it starts (they are early).
OUTCOME_LEAD = dt.timedelta(minutes=15)


def outcome_opens_at(starts_at: dt.datetime) -> dt.datetime:
    """From when the doctor may end a visit (completed, no-show, first visit)."""
    return starts_at - OUTCOME_LEAD


def patient_refund_percent(
    status: str,
    starts_at: dt.datetime,
    free_cancel_hours: int,
    late_cancel_refund_percent: int,
    now: dt.datetime,
) -> int | None:
    """The share refunded when the patient cancels at ``now``: everything before the doctor's
    free-cancellation window closes, then the doctor's late share. None when nothing was
    paid (a hold)."""
    if status != "confirmed":
        return None
    free_until = starts_at - dt.timedelta(hours=free_cancel_hours)
    return 100 if now < free_until else late_cancel_refund_percent


def refund_amount(price_fen: int, percent: int) -> int:
    """``percent`` of the price in fen, rounded down (never more than was paid)."""
    return price_fen * percent // 100


@dataclass(frozen=True)
class CancellationTerms:
    allowed: bool  # the patient may still cancel
    refund_percent: int | None  # None: nothing was paid
    refund_fen: int
    free_until: dt.datetime  # the end of the free-cancellation window


def cancellation_terms(booking: BookingOut, now: dt.datetime) -> CancellationTerms:
    """What cancelling ``booking`` at ``now`` would mean for the patient."""
    allowed = booking.status in LIVE and booking.starts_at > now
    percent = patient_refund_percent(
        booking.status,
        booking.starts_at,
        booking.free_cancel_hours,
        booking.late_cancel_refund_percent,
        now,
    )
    return CancellationTerms(
        allowed=allowed,
        refund_percent=percent,
        refund_fen=refund_amount(booking.price_fen, percent) if percent else 0,
        free_until=booking.starts_at - dt.timedelta(hours=booking.free_cancel_hours),
    )


def actions_for(
    booking: BookingOut, role: Literal["patient", "doctor"] | None, now: dt.datetime
) -> list[Action]:
    """What the booking's patient account or its doctor may do with it at ``now``."""
    actions: list[Action] = []
    confirmed = booking.status == "confirmed"
    if role == "patient":
        if booking.status == "held" and booking.hold_expires_at and booking.hold_expires_at > now:
            actions.append("pay")
        if confirmed and booking.consultation_id:
            actions.append("enter")
        if cancellation_terms(booking, now).allowed:
            actions.append("cancel")
    elif role == "doctor":
        if confirmed and booking.consultation_id:
            actions.append("enter")
        if confirmed and now >= outcome_opens_at(booking.starts_at):
            actions.append("end")
        if booking.status in LIVE and booking.ends_at > now:
            actions.append("cancel")
    return actions
