"""HTTP bodies of the renewals API (README.md beside this file)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from medmarket.prescriptions.renewals.states import RenewalStatus
from medmarket.prescriptions.schemas import ItemIn, ReasonKey, Text
from medmarket.prescriptions.validity import MAX_VALID_DAYS

Note = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class RenewalIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The patient asks for a renewal, saying how they are doing (for the doctor to read)."""

    note: Note


class ApprovalIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The doctor renews: the earlier prescription's diagnosis and items unless given here
    (edited), checked by the same rules as any prescription; ``reasons`` answers their
    warnings as when writing one."""

    diagnosis: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    items: Annotated[list[ItemIn], msgspec.Meta(min_length=1, max_length=20)] | None = None
    valid_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_VALID_DAYS)] = 1
    reasons: Annotated[dict[ReasonKey, Text], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=dict
    )


class VisitRequestIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The doctor asks to see the patient instead, telling them why."""

    message: Note


class RenewalOut(msgspec.Struct, kw_only=True):
    """A renewal request and where it stands. Pay for a ``requested`` one with ``POST
    /api/payments`` (purpose ``prescription_renewal``, subject its id) before ``pay_by``."""

    id: uuid.UUID
    # The earlier prescription it asks to renew, and its consultation.
    prescription_id: uuid.UUID
    consultation_id: uuid.UUID
    diagnosis: str
    patient_id: uuid.UUID
    patient_name: str
    doctor_id: uuid.UUID
    doctor_name: str
    note: str
    price_fen: int
    currency: str
    status: RenewalStatus
    status_changed_at: dt.datetime
    requested_at: dt.datetime
    pay_by: dt.datetime
    paid_at: dt.datetime | None
    # Until when the doctor may answer a paid one; then it expires and is refunded.
    answer_due_at: dt.datetime | None
    closed_at: dt.datetime | None
    # The prescription that renewed it (GET /api/prescriptions/{id}).
    renewal_id: uuid.UUID | None
    # Why the doctor asks to see the patient.
    visit_message: str | None
