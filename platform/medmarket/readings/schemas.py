"""What the readings API reads and answers (msgspec Structs at the edge; the multipart form
of a new request is a dataclass, as litestar reads forms)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Annotated

import msgspec
from litestar.datastructures import UploadFile

from medmarket.readings.states import Kind, ReadingStatus, Urgency

Minutes = Annotated[int, msgspec.Meta(ge=1, le=20160)]  # at most two weeks


class Targets(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Turnaround targets in minutes per urgency (e.g. 24 h, 4 h, 30 min); the more urgent,
    the sooner."""

    routine: Minutes
    urgent: Minutes
    emergency: Minutes


class CentreIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    hospital_id: uuid.UUID
    kind: Kind
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=100)]
    targets: Targets


class ReaderIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    doctor_id: uuid.UUID


class Named(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str


class CentreOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    hospital: Named
    kind: Kind
    name: str
    targets: Targets
    readers: list[Named]


@dataclass
class ReadingUpload:
    """A multipart form: the study's files (DICOM; for an ECG also PDF, JPEG or PNG; for
    pathology JPEG or PNG, each judged by its content) and what the requester asks."""

    centre_id: str
    booking_id: str  # the visit whose patient it is: one of the requester's own
    kind: Kind
    urgency: Urgency
    question: str
    # The patient agreed to share the study with the centre; without it nothing is sent.
    consent: bool = False
    files: list[UploadFile] = field(default_factory=list)


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=500)]


class ReportIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The reader's structured report; sending it signs it."""

    findings: Annotated[str, msgspec.Meta(min_length=2, max_length=8000)]
    impression: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]
    critical: bool = False
    # Required with a critical finding: what the requester must know and do now.
    critical_note: Annotated[str, msgspec.Meta(min_length=2, max_length=1000)] | None = None


class FileOut(msgspec.Struct, kw_only=True):
    """A file of the study and what was read from it (never the patient's identifiers)."""

    id: uuid.UUID
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    modality: str | None = None
    study_date: dt.date | None = None
    body_part: str | None = None
    rows: int | None = None
    columns: int | None = None
    frames: int | None = None


class SignatureOut(msgspec.Struct, kw_only=True):
    reader: Named
    signed_at: dt.datetime
    # SHA-256 (hex) of the report's canonical form with the reader and the time.
    content_sha256: str


class ReportOut(msgspec.Struct, kw_only=True):
    findings: str
    impression: str
    critical: bool
    critical_note: str | None
    signature: SignatureOut


class EventOut(msgspec.Struct, kw_only=True):
    status: str
    at: dt.datetime
    note: str


class ReadingOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: ReadingStatus
    centre: Named
    requester: Named
    patient: Named
    booking_id: uuid.UUID
    kind: Kind
    urgency: Urgency
    question: str
    received_at: dt.datetime
    due_at: dt.datetime
    reported_at: dt.datetime | None
    # The reader who holds the claim now (None when nobody does).
    claimed_by: Named | None
    cancel_reason: str | None
    files: list[FileOut] = msgspec.field(default_factory=list)
    report: ReportOut | None = None
    timeline: list[EventOut] = msgspec.field(default_factory=list)


class TurnaroundOut(msgspec.Struct, kw_only=True):
    """Received to reported, over the centre's reported requests."""

    centre_id: uuid.UUID
    count: int
    median_minutes: float | None
    p90_minutes: float | None
    # Share (0..1) reported by their due time; None before the first report.
    within_target: float | None
