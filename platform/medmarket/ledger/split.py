"""The arithmetic of splitting money, in integer minor units, with no fen lost or invented.

A charge is split by rates in basis points: the platform and the hospital get the floor of
their share, the doctor the rest (so rounding always favours the person who did the work).
A pharmacy's charge (a pharmacy order) has no hospital's or doctor's share: the platform gets
the floor of its commission, the pharmacy the rest.
A refund takes back from each party in proportion to what that party still holds from the
payment (largest remainder), never more than it holds, and the refund that empties the
payment takes back exactly what is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

BASIS_POINTS = 10_000
K = TypeVar("K")


@dataclass(frozen=True)
class Shares:
    platform: int
    hospital: int
    doctor: int
    pharmacy: int = 0

    @property
    def total(self) -> int:
        return self.platform + self.hospital + self.doctor + self.pharmacy


def split_charge(
    amount: int,
    *,
    platform_rate_bp: int,
    hospital_rate_bp: int,
    has_hospital: bool = True,
    has_doctor: bool = True,
) -> Shares:
    """Split ``amount``. With no hospital its share is not taken; with no doctor the rest
    goes to the platform (a pharmacy's charge is split by ``split_pharmacy_charge``)."""
    if amount < 0:
        raise ValueError("a charge is not negative")
    if not (platform_rate_bp >= 0 and hospital_rate_bp >= 0) or (
        platform_rate_bp + hospital_rate_bp > BASIS_POINTS
    ):
        raise ValueError("rates must be between 0 and 10000 basis points in total")
    platform = amount * platform_rate_bp // BASIS_POINTS
    hospital = amount * hospital_rate_bp // BASIS_POINTS if has_hospital else 0
    rest = amount - platform - hospital
    if not has_doctor:
        return Shares(platform=platform + rest, hospital=hospital, doctor=0)
    return Shares(platform=platform, hospital=hospital, doctor=rest)


def split_pharmacy_charge(amount: int, *, platform_rate_bp: int) -> Shares:
    """Split a pharmacy's charge: the platform's commission (floor), the pharmacy the rest."""
    if amount < 0:
        raise ValueError("a charge is not negative")
    if not 0 <= platform_rate_bp <= BASIS_POINTS:
        raise ValueError("rates must be between 0 and 10000 basis points")
    platform = amount * platform_rate_bp // BASIS_POINTS
    return Shares(platform=platform, hospital=0, doctor=0, pharmacy=amount - platform)


def allocate(amount: int, holdings: Mapping[K, int]) -> dict[K, int]:
    """Take ``amount`` from ``holdings`` (each ≥ 0, in a stable order) proportionally.

    Every part lies between 0 and its holding and the parts sum to ``amount``; taking all
    that is held returns the holdings themselves.
    """
    held = sum(holdings.values())
    if any(value < 0 for value in holdings.values()):
        raise ValueError("holdings are not negative")
    if not 0 <= amount <= held:
        raise ValueError(f"cannot take {amount} from {held}")
    if amount == held:
        return dict(holdings)
    parts = {key: value * amount // held for key, value in holdings.items()}
    left = amount - sum(parts.values())
    # Largest remainder first; ties by the holdings' own order, so the result is stable.
    order = sorted(
        enumerate(holdings.items()),
        key=lambda item: (-((item[1][1] * amount) % held), item[0]),
    )
    for _, (key, _value) in order[:left]:
        parts[key] += 1
    return parts


def yuan(fen: int) -> str:
    """Fen as a decimal string: 12345 → "123.45", -5 → "-0.05"."""
    sign = "-" if fen < 0 else ""
    whole, rest = divmod(abs(fen), 100)
    return f"{sign}{whole}.{rest:02d}"
