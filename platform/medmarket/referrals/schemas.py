"""What the referrals API reads and answers (msgspec Structs at the edge)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from medmarket.hospitals.interface import Urgency
from medmarket.referrals.states import ReferralStatus, Source

Text = Annotated[str, msgspec.Meta(min_length=2)]


class ReferralDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the doctor sends the patient, how soon and why."""

    hospital_id: uuid.UUID
    department: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    urgency: Urgency
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=1000)]
    clinical_summary: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]
    # Required for an emergency: what the patient must do now ("call 120", "go to the
    # nearest emergency department"); shown to them at once.
    emergency_advice: Annotated[str, msgspec.Meta(min_length=2, max_length=500)] | None = None
    # Files shared in the visit to send along (CT images, ECG, reports).
    attachment_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )


class ReferralIn(ReferralDetails, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A referral from a visit (during or after it)."""

    booking_id: uuid.UUID


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=500)]


class DeclineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


HospitalOutcome = Literal["seen", "admitted", "discharged", "referred_back", "no_show"]


class OutcomeIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What happened at the hospital, as its admin records it on the platform."""

    status: HospitalOutcome
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    # When it happened (default: now); not in the future.
    at: dt.datetime | None = None
    # With "referred_back" (下转): the discharge summary, what the follow-up doctor should
    # do, and who follows up (default: the doctor who referred).
    summary: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)] | None = None
    follow_up: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    to_doctor_id: uuid.UUID | None = None


class Named(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str


class DoctorRef(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    hospital: str


class AppointmentOut(msgspec.Struct, frozen=True, kw_only=True):
    starts_at: dt.datetime
    place: str
    department: str
    ticket: str
    instructions: str = ""


class RefusalOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    reason: str = ""


class SendingOut(msgspec.Struct, frozen=True, kw_only=True):
    """How sending to the hospital goes: tries so far, and whether it answered."""

    attempts: int
    answered: bool
    waiting_since: dt.datetime | None = None


class AttachmentRef(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    content_type: str
    size_bytes: int


class EventOut(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    at: dt.datetime
    source: Source
    note: str = ""


class DownReferralOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    referral_id: uuid.UUID
    status: Literal["sent", "acknowledged"]
    hospital: Named
    to_doctor: DoctorRef
    patient: Named
    summary: str
    follow_up: str
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None = None
    # The referral it closes: which department saw the patient, for what.
    department: str | None = None
    reason: str = ""


class ReferralOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: ReferralStatus
    origin: Literal["doctor", "visit_unsuitable"]
    booking_id: uuid.UUID | None
    patient: Named
    doctor: DoctorRef
    hospital: Named | None
    department: str | None
    urgency: Urgency | None
    reason: str
    clinical_summary: str
    emergency_advice: str | None
    created_at: dt.datetime
    status_changed_at: dt.datetime
    submitted_at: dt.datetime | None = None
    consented_at: dt.datetime | None = None
    appointment: AppointmentOut | None = None
    refusal: RefusalOut | None = None
    sending: SendingOut | None = None
    cancel_reason: str | None = None
    attachments: list[AttachmentRef] = msgspec.field(default_factory=list)
    timeline: list[EventOut] = msgspec.field(default_factory=list)
    down_referral: DownReferralOut | None = None
