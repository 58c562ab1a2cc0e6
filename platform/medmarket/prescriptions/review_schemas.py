"""HTTP bodies of the pharmacists' review desk (README.md beside this file, "Review")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, get_args

import msgspec

from medmarket.patients.schemas import Sex
from medmarket.prescriptions.document import PrescribedItem, PrescriptionFinding
from medmarket.prescriptions.states import PrescriptionStatus, Standing

# Why a pharmacist rejects a prescription; the database checks the same list (migration 0073).
RejectReason = Literal[
    "dose_inappropriate",
    "interaction",
    "contraindication",
    "duplicate_therapy",
    "allergy",
    "diagnosis_mismatch",
    "incomplete",
    "other",
]
REJECT_REASONS: tuple[str, ...] = get_args(RejectReason)
Decision = Literal["approved", "rejected"]


class RejectIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason_code: RejectReason
    # What the pharmacist says to the doctor; required for "other".
    text: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ApproveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # An optional note kept with the approval (to the doctor).
    text: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ReviewedPatient(msgspec.Struct, kw_only=True):
    """What review needs of the patient: no name, no phone."""

    age_years: int
    sex: Sex | None
    # The patient's health record now; empty with recorded False: never recorded (not "none").
    allergies: list[str]
    allergies_recorded: bool


class ReviewedPrescriber(msgspec.Struct, kw_only=True):
    name: str
    title: str
    hospital: str


class ReviewDecision(msgspec.Struct, kw_only=True):
    decision: Decision
    decided_at: dt.datetime
    decided_by: str  # the pharmacist's name
    reason_code: RejectReason | None
    reason_text: str | None


class DeskEntry(msgspec.Struct, kw_only=True):
    """A prescription as the review desk shows it: only what review needs."""

    prescription_id: uuid.UUID
    consultation_id: uuid.UUID
    version: int
    status: PrescriptionStatus
    standing: Standing
    written_at: dt.datetime
    expires_at: dt.datetime
    routed_at: dt.datetime
    # Whole minutes since it was routed to the pharmacy (until decided).
    waiting_minutes: int
    doctor: ReviewedPrescriber
    patient: ReviewedPatient
    diagnosis: str
    chronic_follow_up: bool
    items: tuple[PrescribedItem, ...]
    # The safety rules' findings, with the doctor's reason for each warning.
    findings: tuple[PrescriptionFinding, ...]
    review: ReviewDecision | None
