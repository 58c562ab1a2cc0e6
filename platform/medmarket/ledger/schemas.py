"""HTTP bodies of hospital agreements and settlement statements (a doctor's, a hospital's or
a pharmacy's)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

BasisPoints = Annotated[int, msgspec.Meta(ge=0, le=10000)]
Period = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class AgreementIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Shares of every charge, in basis points (100 = 1%); the doctor receives the rest."""

    platform_rate_bp: BasisPoints
    hospital_rate_bp: BasisPoints
    effective_from: dt.datetime | None = None  # default: now


class AgreementOut(msgspec.Struct, kw_only=True):
    hospital_id: uuid.UUID
    platform_rate_bp: int
    hospital_rate_bp: int
    effective_from: dt.datetime | None
    is_default: bool = False


class StatementLine(msgspec.Struct, kw_only=True):
    occurred_at: dt.datetime
    kind: Literal["charge", "refund"]
    payment_id: uuid.UUID
    refund_id: uuid.UUID | None
    purpose: str
    subject_id: uuid.UUID
    doctor_id: uuid.UUID | None
    doctor_name: str | None  # who saw the patient, for a hospital's statement
    gross: int  # what the patient paid (charge) or got back (refund, negative)
    share: int  # what this party earns (negative for a refund)


class StatementTotals(msgspec.Struct, kw_only=True):
    charges: int
    refunds: int
    gross: int
    share: int


class Statement(msgspec.Struct, kw_only=True):
    party: Literal["doctor", "hospital", "pharmacy"]
    party_id: uuid.UUID
    name: str
    period: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str
    currency: str
    lines: list[StatementLine]
    totals: StatementTotals
