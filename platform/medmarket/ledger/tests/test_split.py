"""The split arithmetic: no fen lost or invented (a doctor's charge or a pharmacy's), refunds
proportional and never more than a party holds, and a payment refunded in any number of parts
returns to exactly zero."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.ledger.split import allocate, split_charge, split_pharmacy_charge, yuan

amounts = st.integers(min_value=0, max_value=10**9)
rates = st.tuples(st.integers(0, 10000), st.integers(0, 10000)).filter(lambda r: sum(r) <= 10000)


@given(amount=amounts, rate=rates, hospital=st.booleans(), doctor=st.booleans())
def test_a_charge_is_split_exactly(
    amount: int, rate: tuple[int, int], hospital: bool, doctor: bool
) -> None:
    shares = split_charge(
        amount,
        platform_rate_bp=rate[0],
        hospital_rate_bp=rate[1],
        has_hospital=hospital,
        has_doctor=doctor,
    )
    assert shares.total == amount
    assert min(shares.platform, shares.hospital, shares.doctor) >= 0
    assert shares.hospital == (amount * rate[1] // 10000 if hospital else 0)
    assert shares.pharmacy == 0
    if doctor:
        assert shares.platform == amount * rate[0] // 10000
    else:
        assert shares.doctor == 0


@given(amount=amounts, rate=st.integers(0, 10000))
def test_a_pharmacys_charge_is_its_own_less_the_platforms_commission(
    amount: int, rate: int
) -> None:
    shares = split_pharmacy_charge(amount, platform_rate_bp=rate)
    assert shares.total == amount
    assert shares.platform == amount * rate // 10000
    assert shares.pharmacy == amount - shares.platform >= 0
    assert shares.hospital == shares.doctor == 0


@given(amount=amounts, rate=st.integers(0, 10000), data=st.data())
def test_a_pharmacys_charge_refunded_in_any_parts_reverses_each_share_exactly(
    amount: int, rate: int, data: st.DataObject
) -> None:
    """What ``book_refund`` does with a pharmacy's charge: the clearing account and the two
    parties return to zero together, and no part ever takes more than a party holds."""
    shares = split_pharmacy_charge(amount, platform_rate_bp=rate)
    held = {"platform": shares.platform, "pharmacy": shares.pharmacy}
    left, refunds = amount, 0
    partial_refunds = data.draw(st.integers(0, 8))
    while left:
        # A few partial refunds, then one that takes all that is left.
        refund = data.draw(st.integers(1, left)) if refunds < partial_refunds else left
        taken = allocate(refund, held)
        held = {party: value - taken[party] for party, value in held.items()}
        left, refunds = left - refund, refunds + 1
        assert min(held.values()) >= 0 and sum(held.values()) == left
        # Each party keeps its proportion of what is left, to within a fen per refund.
        assert abs(held["pharmacy"] - shares.pharmacy * left / amount) <= refunds
    assert held == {"platform": 0, "pharmacy": 0}


def test_the_pharmacy_gets_the_rounding() -> None:
    shares = split_pharmacy_charge(10001, platform_rate_bp=300)
    assert (shares.platform, shares.pharmacy) == (300, 9701)
    with pytest.raises(ValueError, match="rates"):
        split_pharmacy_charge(100, platform_rate_bp=10001)
    with pytest.raises(ValueError, match="negative"):
        split_pharmacy_charge(-1, platform_rate_bp=300)


def test_the_doctor_gets_the_rounding() -> None:
    shares = split_charge(999, platform_rate_bp=1000, hospital_rate_bp=2000)
    assert (shares.platform, shares.hospital, shares.doctor) == (99, 199, 701)


def test_impossible_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="rates"):
        split_charge(100, platform_rate_bp=6000, hospital_rate_bp=5000)


holdings = st.lists(st.integers(0, 10**7), min_size=1, max_size=5)


@given(held=holdings, data=st.data())
def test_allocation_is_exact_bounded_and_proportional(held: list[int], data: st.DataObject) -> None:
    total = sum(held)
    amount = data.draw(st.integers(0, total))
    parts = allocate(amount, dict(enumerate(held)))
    assert sum(parts.values()) == amount
    for key, value in enumerate(held):
        assert 0 <= parts[key] <= value
        if total:
            assert abs(parts[key] - value * amount / total) < 1


@given(held=holdings, data=st.data())
def test_refunds_in_any_parts_reverse_exactly_what_was_held(
    held: list[int], data: st.DataObject
) -> None:
    remaining = dict(enumerate(held))
    left = sum(held)
    partial_refunds = data.draw(st.integers(0, 8))
    while left:
        # A few partial refunds, then one that takes all that is left.
        amount = data.draw(st.integers(1, left)) if partial_refunds else left
        partial_refunds = max(0, partial_refunds - 1)
        parts = allocate(amount, remaining)
        remaining = {key: value - parts[key] for key, value in remaining.items()}
        assert all(value >= 0 for value in remaining.values())
        left -= amount
        assert sum(remaining.values()) == left
    assert set(remaining.values()) <= {0}


def test_taking_more_than_is_held_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot take"):
        allocate(11, {"a": 5, "b": 5})


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00"), (5, "0.05"), (12345, "123.45"), (-5, "-0.05"), (-100, "-1.00")]
)
def test_yuan(fen: int, text: str) -> None:
    assert yuan(fen) == text
