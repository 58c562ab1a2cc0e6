"""The patient's cancellation rule, checked for all moments and policies: what the page
shows before confirming is what the cancellation refunds."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import given
from hypothesis import strategies as st

from medmarket.bookings.cancellation import (
    cancellation_terms,
    outcome_opens_at,
    patient_refund_percent,
    refund_amount,
)
from medmarket.bookings.schemas import BookingOut, PriorDiagnosis

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def booking(status: str, hours: int, late: int, price: int) -> BookingOut:
    return BookingOut(
        id=uuid.uuid4(),
        status=status,  # type: ignore[arg-type]
        kind="video",
        starts_at=START,
        ends_at=START + dt.timedelta(minutes=30),
        doctor_id=uuid.uuid4(),
        doctor_name="D",
        hospital_name="H",
        patient_id=uuid.uuid4(),
        patient_name="P",
        price_fen=price,
        currency="CNY",
        hold_expires_at=None,
        guardian_required=False,
        prior_diagnosis=PriorDiagnosis(
            institution="X", diagnosed_on=dt.date(2026, 1, 1), diagnosis="Y"
        ),
        free_cancel_hours=hours,
        late_cancel_refund_percent=late,
        created_at=START - dt.timedelta(days=3),
        confirmed_at=None,
        ended_at=None,
        end_reason=None,
        refund_percent=None,
        flagged_reason=None,
    )


moments = st.integers(min_value=-3 * 24 * 60, max_value=10 * 24 * 60).map(
    lambda minutes: START - dt.timedelta(minutes=minutes)
)


@given(
    now=moments,
    hours=st.integers(min_value=0, max_value=168),
    late=st.integers(min_value=0, max_value=100),
    price=st.integers(min_value=100, max_value=10_000_000),
)
def test_the_refund_follows_the_free_window_and_never_exceeds_the_price(
    now: dt.datetime, hours: int, late: int, price: int
) -> None:
    percent = patient_refund_percent("confirmed", START, hours, late, now)
    window_open = now < START - dt.timedelta(hours=hours)
    assert percent == (100 if window_open else late)
    amount = refund_amount(price, percent)
    assert 0 <= amount <= price
    # The share, rounded down to the fen: never a fen more than the policy gives.
    assert amount <= price * percent / 100 < amount + 1
    assert (amount == price) if percent == 100 else True
    terms = cancellation_terms(booking("confirmed", hours, late, price), now)
    assert terms.refund_percent == percent and terms.refund_fen == amount
    assert terms.allowed == (now < START)


@given(now=moments, late=st.integers(min_value=0, max_value=100))
def test_nothing_is_refunded_for_what_was_not_paid(now: dt.datetime, late: int) -> None:
    assert patient_refund_percent("held", START, 24, late, now) is None
    terms = cancellation_terms(booking("held", 24, late, 5000), now)
    assert terms.refund_percent is None and terms.refund_fen == 0
    for ended in ("cancelled", "completed", "expired"):
        assert not cancellation_terms(booking(ended, 24, late, 5000), now).allowed


def test_a_doctor_may_end_a_visit_a_little_before_it_starts() -> None:
    assert outcome_opens_at(START) == START - dt.timedelta(minutes=15)
