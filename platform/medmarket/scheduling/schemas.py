"""HTTP bodies of the doctors' schedule API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

ConsultKind = Literal["video", "text"]
# What a doctor puts a price on: the kinds of consultation that are booked, and renewing a
# prescription of theirs without a call (prescriptions/renewals), which has no slot.
OfferingKind = Literal["video", "text", "renewal"]
# Wall-clock time of day as people write it: "09:00", "23:30".
WallTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


def parse_wall_time(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def format_wall_time(value: dt.time) -> str:
    return value.strftime("%H:%M")


class OfferingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A kind's price and terms. ``slot_minutes`` is required for a kind that is booked (video,
    text) and absent for a renewal, which is answered without a call; the cancellation
    terms are a booking's (a renewal is refunded by the platform's rules instead)."""

    price_fen: Annotated[int, msgspec.Meta(ge=100, le=10_000_000)]
    slot_minutes: Literal[10, 15, 20, 30, 45, 60] | None = None
    free_cancel_hours: Annotated[int, msgspec.Meta(ge=0, le=168)] = 24
    late_cancel_refund_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] = 50
    active: bool = True


class OfferingOut(OfferingIn, kw_only=True):
    kind: OfferingKind
    currency: str = "CNY"


class WindowIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    weekday: Annotated[int, msgspec.Meta(ge=1, le=7)]
    starts_at: WallTime
    ends_at: WallTime


class ExceptionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    on_date: dt.date
    kind: Literal["unavailable", "extra"]
    starts_at: WallTime | None = None
    ends_at: WallTime | None = None


class AvailabilityIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The whole weekly schedule, replacing the previous one."""

    time_zone: Annotated[str, msgspec.Meta(max_length=64)]
    weekly: Annotated[list[WindowIn], msgspec.Meta(max_length=50)]
    exceptions: Annotated[list[ExceptionIn], msgspec.Meta(max_length=200)] = msgspec.field(
        default_factory=list
    )


class AvailabilityOut(AvailabilityIn, kw_only=True):
    pass


class PublishIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    days: Annotated[int, msgspec.Meta(ge=1, le=90)] = 28
    kind: ConsultKind = "video"


class PublishOut(msgspec.Struct, kw_only=True):
    added: int
    withdrawn: int
    first_day: dt.date
    last_day: dt.date


class SlotOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: ConsultKind
    free: bool


class DoctorSlot(SlotOut, kw_only=True):
    """One slot with the doctor it belongs to (what a booking page starts from)."""

    doctor_id: uuid.UUID
