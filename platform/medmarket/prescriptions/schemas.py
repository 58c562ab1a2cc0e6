"""HTTP bodies of the prescriptions API (README.md beside this file)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from medmarket.drugs.schemas import Route
from medmarket.patients.schemas import Sex
from medmarket.prescriptions.document import (
    PrescribedItem,
    PrescribedPatient,
    Prescriber,
    PrescriptionFinding,
)
from medmarket.prescriptions.model import DoseUnit, Frequency, QuantityUnit
from medmarket.prescriptions.states import PrescriptionStatus, Standing
from medmarket.prescriptions.validity import MAX_VALID_DAYS

# An amount as decimal text: digits with at most four places ("0.5", "2", "12.25"). Text, so
# that what the doctor wrote is what is kept, to the last digit.
Amount = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{1,8}(\.[0-9]{1,4})?$",
        description='a decimal with at most four places, as text: "0.5"',
    ),
]
# A warning the reason explains: its rule, or its rule and field ("supply_days" or
# "supply_days/items[0].duration_days").
ReasonKey = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}(/[^/\s]{1,200})?$")]
Text = Annotated[str, msgspec.Meta(max_length=500)]
RequiredText = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


# -- what doctors send --------------------------------------------------------------------
class ItemIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    drug_id: uuid.UUID
    dose: Amount
    dose_unit: DoseUnit
    route: Route
    frequency: Frequency
    duration_days: Annotated[int, msgspec.Meta(ge=1, le=366)]
    quantity: Amount
    quantity_unit: QuantityUnit
    instructions: Text = ""


class PrescriptionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A prescription as the doctor writes it. ``reasons`` gives the doctor's reason for
    each warning of the safety rules (keyed by the warning's ``rule`` or ``rule/field``):
    a warning without one is refused, naming it."""

    diagnosis: RequiredText
    items: Annotated[list[ItemIn], msgspec.Meta(min_length=1, max_length=20)]
    # Follow-up of a chronic disease on the patient's record (a longer supply is allowed).
    chronic_follow_up: bool = False
    # 1: the day it is written; the doctor may extend it to three days.
    valid_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_VALID_DAYS)] = 1
    reasons: Annotated[dict[ReasonKey, Text], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=dict
    )


class CorrectionIn(PrescriptionIn, kw_only=True, forbid_unknown_fields=True):
    """A new version of a prescription, which voids the one it corrects."""

    correction_reason: RequiredText


class VoidIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: RequiredText


# -- what the server answers --------------------------------------------------------------
class PrescriptionOut(msgspec.Struct, kw_only=True):
    """A prescription as it was issued (its content never changes) and where it stands."""

    id: uuid.UUID
    consultation_id: uuid.UUID
    version: int
    supersedes: uuid.UUID | None
    # The version that corrected (and voided) this one.
    replaced_by: uuid.UUID | None
    status: PrescriptionStatus
    # What it is now: awaiting_review, approved, rejected, dispensed, voided, replaced (voided
    # by a correction: see replaced_by) or expired (its last valid day has passed).
    standing: Standing
    status_changed_at: dt.datetime
    written_at: dt.datetime
    valid_from: dt.date
    valid_until: dt.date
    expires_at: dt.datetime
    doctor: Prescriber
    patient: PrescribedPatient
    diagnosis: str
    chronic_follow_up: bool
    items: tuple[PrescribedItem, ...]
    findings: tuple[PrescriptionFinding, ...]
    voided_at: dt.datetime | None
    void_reason: str | None
    # Hex SHA-256 of the canonical document (what the doctor's signature covers).
    document_sha256: str
    # The doctor's signature of the canonical document; None only for prescriptions issued
    # before prescriptions were signed. GET /api/prescriptions/{id}/signed is the envelope.
    signature: PrescriptionSignature | None


class PrescriptionSignature(msgspec.Struct, kw_only=True):
    # The doctor's key (GET /api/doctors/{doctor id}/signing-keys lists it).
    key_id: str
    # base64url of the 64-byte Ed25519 signature.
    signature: str
    algorithm: Literal["Ed25519"] = "Ed25519"
    canonicalization: Literal["RFC8785"] = "RFC8785"


class HealthSummaryOut(msgspec.Struct, kw_only=True):
    """What the patient's health record says that prescribing needs."""

    patient_id: uuid.UUID
    age_years: int
    sex: Sex | None
    allergies: list[str]
    chronic_conditions: list[str]
    current_medications: list[str]
    # When the patient last saved it; None: nothing was ever recorded (not "none").
    recorded_at: dt.datetime | None
    # Until when the doctor may prescribe for this visit; None while it is in progress.
    prescribing_until: dt.datetime | None


class VerificationOut(msgspec.Struct, kw_only=True):
    """What anyone holding a prescription's code (its QR code, for a pharmacy) may learn of
    it: whether it stands, who wrote it and when, and the digest of what was issued; the
    patient's name only masked, and nothing of the diagnosis or the drugs."""

    id: uuid.UUID
    version: int
    standing: Standing
    status_changed_at: dt.datetime
    replaced_by: uuid.UUID | None
    written_at: dt.datetime
    valid_from: dt.date
    valid_until: dt.date
    doctor_name: str
    hospital: str
    patient_masked: str
    item_count: int
    document_sha256: str
    # The doctor's signature over the issued document, checked now against the doctor's
    # published key; None only for a prescription issued before prescriptions were signed.
    signature: SignatureCheck | None


class SignatureCheck(msgspec.Struct, kw_only=True):
    key_id: str
    # Whether the stored signature verifies over the stored document with that key.
    valid: bool


def masked(name: str) -> str:
    """A name as a verifier sees it: its first letter, the rest starred (张** , L*****)."""
    letters = name.strip()
    return letters[:1] + "*" * max(1, len(letters) - 1)
