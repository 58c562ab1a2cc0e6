"""HTTP bodies of the bookings API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

Status = Literal["held", "confirmed", "expired", "cancelled", "completed", "no_show", "terminated"]
Outcome = Literal["completed", "patient_no_show", "first_visit_unsuitable"]
Reason = Annotated[str, msgspec.Meta(max_length=500)]
# What the viewer may do with a booking now: pay for it (held), enter its room (confirmed),
# cancel it, end it with an outcome (the doctor, from 15 minutes before the visit).
Action = Literal["pay", "enter", "cancel", "end"]


class PriorDiagnosis(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The earlier diagnosis from an offline institution that this follow-up visit continues."""

    institution: Annotated[str, msgspec.Meta(max_length=200)]
    diagnosed_on: dt.date
    diagnosis: Annotated[str, msgspec.Meta(max_length=500)]
    document_id: uuid.UUID | None = None


class BookingRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slot_id: uuid.UUID
    patient_id: uuid.UUID
    prior_diagnosis: PriorDiagnosis


class CancelRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason = ""


class OutcomeRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    outcome: Outcome
    note: Reason = ""


class BookingOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: Status
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    doctor_id: uuid.UUID
    doctor_name: str
    hospital_name: str
    patient_id: uuid.UUID
    patient_name: str
    price_fen: int
    currency: str
    hold_expires_at: dt.datetime | None
    guardian_required: bool
    prior_diagnosis: PriorDiagnosis
    free_cancel_hours: int
    late_cancel_refund_percent: int
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    ended_at: dt.datetime | None
    end_reason: str | None
    refund_percent: int | None
    flagged_reason: str | None
    # The visit's consultation (call, chat, notes), once payment confirmed the booking.
    consultation_id: uuid.UUID | None = None
    # What the viewer may do now; the service accepts exactly these (cancellation.py).
    actions: list[Action] = msgspec.field(default_factory=list)


class BookingList(msgspec.Struct, kw_only=True):
    bookings: list[BookingOut]
    next_cursor: str | None
