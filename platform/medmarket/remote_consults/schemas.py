"""What the remote consultations API reads and answers (msgspec Structs at the edge)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from medmarket.hospitals.interface import Urgency
from medmarket.remote_consults.states import CaseStatus, InvitationStatus

AwareTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]
Reason = Annotated[str, msgspec.Meta(min_length=2, max_length=500)]


class ConsentIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The patient's consent to share their record with the experts, recorded by the
    requesting doctor with the patient in front of them."""

    given: bool
    how: Literal["verbal_in_person", "written"]
    witnessed_by: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    # When the patient agreed (default: now); not in the future.
    at: AwareTime | None = None


class CaseIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A case for a patient of the requester's visits, to one expert or a team (MDT)."""

    patient_id: uuid.UUID
    consent: ConsentIn
    question: Annotated[str, msgspec.Meta(min_length=2, max_length=2000)]
    clinical_history: Annotated[str, msgspec.Meta(min_length=2, max_length=8000)]
    urgency: Urgency
    proposed_times: Annotated[list[AwareTime], msgspec.Meta(min_length=1, max_length=5)]
    expert_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=7)]
    # Files already shared in one of the patient's visits with the requester.
    attachment_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )


class AcceptIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The expert takes one of the case's times."""

    at: AwareTime


class DeclineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class ProposeIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The expert asks for another time (in the future)."""

    at: AwareTime
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ProposalAnswerIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The requester takes an expert's proposed time ("accept") or asks them again to take
    one of the case's times ("reask")."""

    invitation_id: uuid.UUID
    answer: Literal["accept", "reask"]
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ScheduleIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When the consultation takes place: a time an accepting expert took."""

    at: AwareTime


class OpinionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=2, max_length=8000)]
    assessment: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    recommendation: Annotated[str, msgspec.Meta(max_length=4000)] | None = None


class DecisionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class DoctorRef(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    hospital: str


class ConsentOut(msgspec.Struct, frozen=True, kw_only=True):
    given: bool
    how: str
    at: dt.datetime
    witnessed_by: str | None = None


class InvitationOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    expert: DoctorRef
    status: InvitationStatus
    accepted_time: dt.datetime | None = None
    proposed_time: dt.datetime | None = None
    proposal_note: str = ""
    # Only the requester and the expert themself read why an expert declined.
    decline_reason: str | None = None
    answered_at: dt.datetime | None = None


class AttachmentRef(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    content_type: str
    size_bytes: int


class OpinionOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    invitation_id: uuid.UUID
    expert: DoctorRef
    text: str
    assessment: str | None
    recommendation: str | None
    created_at: dt.datetime


class ReferralHint(msgspec.Struct, frozen=True, kw_only=True):
    """Where the requester refers the patient on, if the decision is to: the referrals API,
    from the visit the case was opened on."""

    method: Literal["POST"] = "POST"
    href: str = "/api/referrals"
    booking_id: uuid.UUID | None = None


class DecisionOut(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    decided_at: dt.datetime
    # The experts advise: responsibility for the patient stays with the requester.
    advisory: bool = True
    responsible_hospital: str = ""
    referral_hint: ReferralHint | None = None


class EventOut(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    at: dt.datetime
    invitation_id: uuid.UUID | None = None
    note: str = ""


class ClinicalOut(msgspec.Struct, frozen=True, kw_only=True):
    """What a case shares of the patient: not for an expert who declined."""

    patient_name: str
    clinical_history: str
    consent: ConsentOut
    attachments: list[AttachmentRef]
    opinions: list[OpinionOut]
    decision: DecisionOut | None


class CaseOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: CaseStatus
    # The reader's part: "requester", or "expert" with their own invitation.
    role: Literal["requester", "expert"]
    requester: DoctorRef
    question: str
    urgency: Urgency
    proposed_times: list[dt.datetime]
    scheduled_at: dt.datetime | None
    # Scheduled and not over: a video room may attach to the case (a later increment).
    room_ready: bool
    created_at: dt.datetime
    status_changed_at: dt.datetime
    invitations: list[InvitationOut]
    my_invitation_id: uuid.UUID | None = None
    cancel_reason: str | None = None
    clinical: ClinicalOut | None = None
    timeline: list[EventOut] = msgspec.field(default_factory=list)
