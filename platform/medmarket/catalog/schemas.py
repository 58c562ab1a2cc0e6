"""HTTP bodies of the storefront."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import msgspec

Sort = Literal["rating", "price_asc", "price_desc", "soonest", "reviews"]


class HospitalBrief(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    level: str
    region: str


class DoctorCard(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    full_name: str
    title: str
    department: str | None
    specialties: list[str]
    languages: list[str]
    hospital: HospitalBrief
    price_fen: int
    currency: str
    slot_minutes: int
    rating: float | None
    review_count: int
    next_free_at: dt.datetime | None


class SearchPage(msgspec.Struct, kw_only=True):
    doctors: list[DoctorCard]
    # Pass as ``cursor`` to get the next page; None on the last page.
    next_cursor: str | None


class Offering(msgspec.Struct, kw_only=True):
    kind: str
    price_fen: int
    currency: str
    slot_minutes: int
    free_cancel_hours: int
    late_cancel_refund_percent: int


class DoctorPage(msgspec.Struct, kw_only=True):
    doctor: DoctorCard
    bio: str
    time_zone: str
    offerings: list[Offering]


class Facets(msgspec.Struct, kw_only=True):
    specialties: list[str]
    regions: list[str]
    languages: list[str]
    hospitals: list[HospitalBrief]
