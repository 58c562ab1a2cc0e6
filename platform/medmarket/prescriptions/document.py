"""The canonical prescription document: the prescription as it was written, in bytes that are
the same whoever builds them and whenever, so the doctor's signature over them can be
checked for as long as the record is kept.

``prescription_document`` is the RFC 8785 (JSON Canonicalization Scheme) form of a
``PrescriptionDocument``, as ``medmarket.signatures`` signs it (docs/signatures.md): keys
sorted, no whitespace, UTF-8, amounts as their shortest decimal text ("0.5", "100") and
times in UTC. It names everything as it was on the day: the doctor (name, title, licence,
hospital), the patient (name, sex, date of birth, age), each drug as the catalog described
it, and every finding of the safety rules with the doctor's reason for each warning. The
database keeps these bytes with the prescription (``prescriptions.document``, its SHA-256
beside it) and the doctor's Ed25519 signature of them (``signature``, ``signing_key_id``);
the API shows a prescription from them, so what anyone reads is what was signed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

import msgspec

from medmarket import signatures
from medmarket.drugs.schemas import Route
from medmarket.prescriptions.model import DoseUnit, Frequency, QuantityUnit
from medmarket.prescriptions.model import Severity as FindingSeverity

FORMAT = "medmarket.prescription/1"


class Prescriber(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID  # the doctor's id
    name: str
    title: str
    licence_number: str
    hospital: str


class PrescribedPatient(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    sex: Literal["female", "male"] | None
    date_of_birth: dt.date
    # On the day the prescription was written.
    age_years: int


class PrescribedDrug(msgspec.Struct, frozen=True, kw_only=True):
    """The catalog's drug as it was when the prescription was written."""

    id: uuid.UUID
    generic_name_zh: str
    generic_name_en: str
    dosage_form: str
    strength: str
    unit: str


class PrescribedItem(msgspec.Struct, frozen=True, kw_only=True):
    drug: PrescribedDrug
    # Decimal text ("0.5"): how much per dose, in dose_unit.
    dose: str
    dose_unit: DoseUnit
    route: Route
    frequency: Frequency
    duration_days: int
    # Decimal text: how much is handed over, in quantity_unit.
    quantity: str
    quantity_unit: QuantityUnit
    instructions: str


class PrescriptionFinding(msgspec.Struct, frozen=True, kw_only=True):
    """What a safety rule said when the prescription was written (never an error: errors
    block), and for a warning the doctor's reason for going ahead."""

    rule: str
    severity: FindingSeverity
    message_zh: str
    message_en: str
    item: int | None = None
    field: str | None = None
    reason: str | None = None


class PrescriptionDocument(msgspec.Struct, frozen=True, kw_only=True):
    format: str = FORMAT
    id: uuid.UUID
    version: int
    # The version this one corrects (and voids); None for the first.
    supersedes: uuid.UUID | None
    consultation_id: uuid.UUID
    written_at: dt.datetime
    # The platform's days it holds on, and the first instant it no longer does.
    valid_from: dt.date
    valid_until: dt.date
    expires_at: dt.datetime
    # The calendar those days are of (MEDMARKET_DEFAULT_TIME_ZONE).
    time_zone: str
    doctor: Prescriber
    patient: PrescribedPatient
    diagnosis: str
    chronic_follow_up: bool
    items: tuple[PrescribedItem, ...]
    findings: tuple[PrescriptionFinding, ...]


_DECODER = msgspec.json.Decoder(PrescriptionDocument)


def decimal_text(value: Decimal) -> str:
    """The shortest decimal text of ``value``: 0.5000 and 0.5 are both "0.5", 1E+2 "100"."""
    return format(value.normalize(), "f")


def prescription_document(content: PrescriptionDocument) -> bytes:
    """The bytes the doctor's signature covers (see the module's docstring)."""
    in_utc = msgspec.structs.replace(
        content,
        written_at=content.written_at.astimezone(dt.UTC),
        expires_at=content.expires_at.astimezone(dt.UTC),
    )
    return signatures.canonical_form(msgspec.to_builtins(in_utc))


def read_document(document: bytes) -> PrescriptionDocument:
    return _DECODER.decode(document)
