"""The patient's cancellation rule, checked for all moments and policies: what the page
shows before confirming is what the cancellation refunds."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import given
from hypothesis import strategies as st

from medmarket.bookings.cancellation import (
    actions_for,
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


statuses = st.sampled_from(
    ["held", "confirmed", "expired", "cancelled", "completed", "no_show", "terminated"]
)


@given(now=moments, status=statuses, has_room=st.booleans(), hold_left=st.integers(-60, 60))
def test_actions_offer_exactly_what_the_rules_allow(
    now: dt.datetime, status: str, has_room: bool, hold_left: int
) -> None:
    """What the API and pages offer (``actions``) is what ``endings`` accepts: the same
    rules, computed once."""
    shown = booking(status, 24, 50, 5000)
    shown.consultation_id = uuid.uuid4() if has_room else None
    shown.hold_expires_at = now + dt.timedelta(minutes=hold_left)
    patient = set(actions_for(shown, "patient", now))
    doctor = set(actions_for(shown, "doctor", now))
    assert ("pay" in patient) == (status == "held" and hold_left > 0)
    assert ("cancel" in patient) == (status in ("held", "confirmed") and now < START)
    assert ("cancel" in doctor) == (status in ("held", "confirmed") and now < shown.ends_at)
    assert ("end" in doctor) == (status == "confirmed" and now >= outcome_opens_at(START))
    assert ("enter" in patient) == ("enter" in doctor) == (status == "confirmed" and has_room)
    assert "pay" not in doctor and "end" not in patient
    assert actions_for(shown, None, now) == []
