"""HTTP bodies of the consultations API (see README.md beside this file)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec
from litestar.datastructures import UploadFile

from medmarket.audit.service import AuditEvent
from medmarket.bookings.schemas import BookingOut, Outcome
from medmarket.signaling.messages import FINAL_STATUSES

Status = Literal[
    "scheduled", "waiting", "in_progress", "completed", "no_show", "terminated", "cancelled"
]
ENDED: frozenset[str] = FINAL_STATUSES  # the room closes with them
Role = Literal["patient", "doctor", "guest"]
ClientRef = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
NoteText = Annotated[str, msgspec.Meta(max_length=4000)]
ChatText = Annotated[str, msgspec.Meta(max_length=4000)]


# -- what clients send ----------------------------------------------------------------------
class EndRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    outcome: Outcome
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class VideoChoice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The video provider serving the call ("webrtc" is built in; others are plugins) and
    whether to aim for the high-throughput profile (e.g. remote ultrasound)."""

    provider: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")] = "webrtc"
    high_throughput: bool = False


class InviteRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    doctor_id: uuid.UUID  # the colleague's doctor id (as the storefront shows it)


class NotesRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new version of the notes. ``base_version`` is the version the writer started from
    (0 for the first): a write based on an older version is refused, so two doctors never
    overwrite each other unseen."""

    base_version: Annotated[int, msgspec.Meta(ge=0)]
    complaint: NoteText = ""
    findings: NoteText = ""
    diagnosis: NoteText = ""
    advice: NoteText = ""


class ChatRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    body: ChatText
    # The client's own id for this message: posting it again (the answer was lost) stores
    # it once and answers with the stored message.
    client_ref: ClientRef | None = None


@dataclass
class AttachmentUpload:
    """A multipart form: the file (PDF, JPEG or PNG, judged by its content; a name that
    claims another type is refused) with an optional caption and client_ref, as in a chat
    message."""

    file: UploadFile
    caption: str = ""
    client_ref: str | None = None


# -- what the server answers ----------------------------------------------------------------
class ParticipantOut(msgspec.Struct, kw_only=True):
    user_id: uuid.UUID  # also the participant id in the room (signaling's "from")
    role: Role
    name: str
    doctor_id: uuid.UUID | None = None
    # In the room now (its signaling connection is open); None when this was not looked up.
    present: bool | None = None


class PatientOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    # A child under six: the guardian (the booking account) attends with them.
    guardian_required: bool


class ConsultationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    booking_id: uuid.UUID
    status: Status
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    # The room may be entered from opens_at (15 minutes early) until closes_at.
    opens_at: dt.datetime
    closes_at: dt.datetime
    patient: PatientOut
    participants: list[ParticipantOut]
    my_role: Role | None
    video: VideoChoice
    waiting_since: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    # The booking's ending (e.g. "completed", "doctor_no_show", "patient_cancelled").
    end_reason: str | None
    refund_percent: int | None


class RoomAccess(msgspec.Struct, kw_only=True):
    """How to join the room: open ``signal_path`` as a WebSocket with the subprotocol
    ``subprotocol`` and send ``{"type": "hello", "token": token}`` first (the token never goes
    in the URL); ask ``video_setup_path`` (POST {"token": ...}) for ICE servers and the media
    profile when the call starts."""

    token: str
    not_before: dt.datetime
    expires_at: dt.datetime
    participant_id: str
    role: Role
    signal_path: str
    subprotocol: str
    video_setup_path: str
    video_teardown_path: str
    video: VideoChoice


class Entered(msgspec.Struct, kw_only=True):
    consultation: ConsultationOut
    room: RoomAccess


class ColleagueOut(msgspec.Struct, kw_only=True):
    doctor_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    invited_at: dt.datetime
    invited_by: uuid.UUID
    removed_at: dt.datetime | None = None
    removed_by: uuid.UUID | None = None


class NoteVersion(msgspec.Struct, kw_only=True):
    version: int
    author_id: uuid.UUID
    author_name: str
    written_at: dt.datetime
    complaint: str
    findings: str
    diagnosis: str
    advice: str


class NotesOut(msgspec.Struct, kw_only=True):
    current: NoteVersion | None
    versions: list[NoteVersion]  # oldest first; the last is ``current``


class AttachmentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    content_type: str
    size_bytes: int
    uploaded_by: uuid.UUID
    uploaded_at: dt.datetime
    download_path: str


class MessageOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    seq: int
    author_id: uuid.UUID
    author_role: Role
    body: str
    sent_at: dt.datetime
    client_ref: str | None = None
    attachment: AttachmentOut | None = None


class MessagePage(msgspec.Struct, kw_only=True):
    messages: list[MessageOut]  # in order of seq
    # Pass as ``after`` to read on; None when this page reached the newest message.
    next_after: int | None


class PaymentSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: str
    amount: int
    currency: str
    refunded_amount: int
    created_at: dt.datetime
    succeeded_at: dt.datetime | None


class ConsultationTrace(msgspec.Struct, kw_only=True):
    """Everything that happened in and around a consultation, for operators and regulators.
    ``events`` are the audit events of the consultation, its booking and its payments (who
    did what when: lifecycle, tokens, joins and leaves, invitations, notes, chat, files,
    payments and refunds), oldest first."""

    consultation: ConsultationOut
    booking: BookingOut
    events: list[AuditEvent]
    colleagues: list[ColleagueOut]
    notes: list[NoteVersion]
    messages: list[MessageOut]
    attachments: list[AttachmentOut]
    payments: list[PaymentSummary]
