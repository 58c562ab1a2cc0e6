"""HTTP bodies of the doctors' onboarding API."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar.datastructures import UploadFile

from medmarket.hospitals.interface import Title
from medmarket.hospitals.schemas import HospitalLevel

DoctorStatus = Literal[
    "draft", "submitted", "verifying", "needs_review", "approved", "rejected", "suspended"
]
DocumentKind = Literal["licence", "identity", "qualification", "title_certificate", "other"]
CheckKind = Literal["licence_valid", "licence_unexpired", "affiliation", "practice_years", "title"]
CheckOutcome = Literal["passed", "failed", "inconclusive"]
CheckPurpose = Literal["application", "recheck", "reverification", "reinstatement"]
# What the viewer may do next with the application (for the pages' buttons).
Action = Literal[
    "edit",
    "upload",
    "submit",
    "revise",
    "approve",
    "reject",
    "recheck",
    "suspend",
    "reinstate",
    "end_affiliation",
]

Specialty = Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
LanguageTag = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


class ApplicationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A doctor's application; saved as a draft until submitted."""

    hospital_id: uuid.UUID
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    # The 医师执业证书 number, as printed on the licence.
    licence_number: Annotated[str, msgspec.Meta(min_length=5, max_length=60)]
    title: Title
    specialties: Annotated[list[Specialty], msgspec.Meta(min_length=1, max_length=10)]
    department: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    languages: Annotated[list[LanguageTag], msgspec.Meta(min_length=1, max_length=10)] = (
        msgspec.field(default_factory=lambda: ["zh"])
    )
    bio: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] = "Asia/Shanghai"


class ReasonIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An operator's (or hospital admin's) decision: the doctor sees the reason."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class RecheckIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


@dataclass
class DocumentUpload:
    """A multipart form: the file and what it is. Its type is read from its content."""

    file: UploadFile
    kind: DocumentKind


class HospitalRef(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    level: HospitalLevel


class DocumentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: DocumentKind
    content_type: str
    size_bytes: int
    original_name: str
    uploaded_at: dt.datetime
    # Served only to the doctor, operators and the hospital's admins.
    url: str


class CheckOut(msgspec.Struct, kw_only=True):
    kind: CheckKind
    outcome: CheckOutcome
    code: str
    # ``code`` with ``params`` in the viewer's language.
    message: str
    params: dict[str, Any]
    # What the hospital's systems said, kept verbatim.
    evidence: dict[str, Any]
    checked_at: dt.datetime


class CheckRunOut(msgspec.Struct, kw_only=True):
    run_id: uuid.UUID
    purpose: CheckPurpose
    outcome: CheckOutcome
    checked_at: dt.datetime
    checks: list[CheckOut]


class StatusChangeOut(msgspec.Struct, kw_only=True):
    id: int
    from_status: DoctorStatus | None
    to_status: DoctorStatus
    reason_code: str
    # The person's own words when a person decided, else ``reason_code`` in words.
    reason: str
    actor_role: str
    occurred_at: dt.datetime


class DoctorOut(msgspec.Struct, kw_only=True):
    """A doctor's application and standing, as the doctor, their hospital's admins and
    operators see it."""

    id: uuid.UUID
    user_id: uuid.UUID
    hospital: HospitalRef
    full_name: str
    licence_number: str
    title: Title
    department: str | None
    specialties: list[str]
    languages: list[str]
    bio: str
    time_zone: str
    status: DoctorStatus
    status_reason_code: str | None
    status_reason: str | None
    # As the hospital confirmed them.
    practice_started_on: dt.date | None
    licence_expires_on: dt.date | None
    affiliation_ends_on: dt.date | None
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    verified_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    documents: list[DocumentOut]
    latest_checks: CheckRunOut | None
    history: list[StatusChangeOut]
    actions: list[Action]


class DoctorSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    full_name: str
    title: Title
    hospital_id: uuid.UUID
    hospital_name: str
    specialties: list[str]
    status: DoctorStatus
    submitted_at: dt.datetime | None
    updated_at: dt.datetime


class DoctorPage(msgspec.Struct, kw_only=True):
    items: list[DoctorSummary]
    # Pass as ``cursor`` for the next page; None on the last page.
    next_cursor: str | None


# -- signing keys and signatures (signing_keys.py; docs/signatures.md) --------------------------
class SigningKeyOut(msgspec.Struct, kw_only=True):
    """A doctor's public signing key, for anyone to verify what the doctor signed."""

    # base64url of the first 16 bytes of the raw public key's SHA-256; envelopes name it
    key_id: str
    algorithm: Literal["Ed25519"]
    # the 32 raw bytes of RFC 8032, base64url without padding
    public_key: str
    # the same key as PEM (SubjectPublicKeyInfo), as openssl reads it
    public_key_pem: str
    created_at: dt.datetime
    # from then on the key signs nothing more; what it signed stays valid
    retired_at: dt.datetime | None


class DoctorSigningKeysOut(msgspec.Struct, kw_only=True):
    doctor_id: uuid.UUID
    doctor_name: str
    # oldest first; at most one has no ``retired_at``
    keys: list[SigningKeyOut]


# unknown-key: no doctor's key has the envelope's key id; bad-signature: the signature does
# not sign this document with that key.
VerificationFailure = Literal["unknown-key", "bad-signature"]


class VerificationOut(msgspec.Struct, kw_only=True):
    """Whether a signed document is what a doctor signed; who, when it is."""

    valid: bool
    key_id: str
    doctor_id: uuid.UUID | None = None
    doctor_name: str | None = None
    key_created_at: dt.datetime | None = None
    key_retired_at: dt.datetime | None = None
    reason: VerificationFailure | None = None
    detail: str | None = None
