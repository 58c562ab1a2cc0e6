"""A prescription as the safety rules read it: plain values, no database, no I/O.

The service builds these from the request, the drug catalog and the patient's health
record; the platform's rules (``rules/``) and the plugins' rules (the
``medmarket_prescription_rules`` hook) read them and answer findings. Frozen, because a
rule must not change what it checks.

This is where plugins meet prescriptions, so it sits in the foundation layer and
``medmarket`` exports it; ``model.py`` names the same classes for the platform's code.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Literal

import msgspec

Severity = Literal["info", "warning", "error"]

# How often a dose is taken, as Chinese prescriptions abbreviate it (the Latin of the
# pharmacopoeia): qd once a day, bid twice, tid three times, qid four, q6h/q8h/q12h every so
# many hours, qn at night, qod every other day, qw once a week, prn when needed (at most as
# often as the instructions say), once a single dose.
Frequency = Literal[
    "qd", "bid", "tid", "qid", "q6h", "q8h", "q12h", "qn", "qod", "qw", "prn", "once"
]

# What a dose is measured in: an amount of the substance (the catalog's strength unit or
# one convertible to it) or a count of the drug's own units.
DoseUnit = Literal[
    "mg",
    "g",
    "μg",
    "IU",
    "U",
    "mL",
    "tablet",
    "capsule",
    "sachet",
    "puff",
    "drop",
    "suppository",
    "patch",
    "application",
]

# What is handed over: counted units, packs, or a volume or weight (liquids, ointments).
QuantityUnit = Literal[
    "tablet",
    "capsule",
    "sachet",
    "vial",
    "ampoule",
    "bottle",
    "tube",
    "box",
    "inhaler",
    "patch",
    "suppository",
    "mL",
    "g",
]


class DrugFacts(msgspec.Struct, frozen=True, kw_only=True):
    """The catalog's row for a drug, as it was when the prescription was written."""

    id: uuid.UUID
    generic_name_zh: str
    generic_name_en: str
    aliases: tuple[str, ...]
    dosage_form: str
    strength: str
    unit: str
    route: str
    # Level 5 of the WHO ATC classification (C08CA01); its levels are prefixes.
    atc_code: str
    prescription_only: bool
    special_class: str | None
    retired: bool


class ItemDraft(msgspec.Struct, frozen=True, kw_only=True):
    drug: DrugFacts
    dose: Decimal
    dose_unit: DoseUnit
    route: str
    frequency: Frequency
    duration_days: int
    quantity: Decimal
    quantity_unit: QuantityUnit
    instructions: str = ""


class PatientFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What review needs of the patient, from their health record."""

    date_of_birth: dt.date
    # As the patient or a doctor wrote them: drug or class names in Chinese or English
    # (青霉素, penicillin, 阿司匹林, sulfa).
    allergies: tuple[str, ...]
    chronic_conditions: tuple[str, ...]
    current_medications: tuple[str, ...]
    # The patient is a family member booked for by the account holder (their guardian),
    # and the account holder is in the consultation.
    guardian_present: bool
    # Catalog drugs that the allergies and current medications above name, as the service
    # found them (searching the catalog for each line); the rules tie each to its line by
    # name again (``rules.names.names_drug``), and read their ATC codes: an allergy to
    # amoxicillin warns of ampicillin, a patient on nifedipine already takes a
    # dihydropyridine. Without them the rules still see the draft's own drugs.
    named_drugs: tuple[DrugFacts, ...] = ()


class DraftPrescription(msgspec.Struct, frozen=True, kw_only=True):
    diagnosis: str
    items: tuple[ItemDraft, ...]
    # The doctor states this is follow-up of a chronic disease on the patient's record,
    # which allows a longer supply.
    chronic_follow_up: bool
    # The platform's day the prescription is written on (ages are counted to it).
    written_on: dt.date


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """What the platform allows, from settings (MEDMARKET_PRESCRIPTION_*)."""

    # Supply of an ordinary prescription, in days.
    acute_days: int = 7
    # Supply of a follow-up of a chronic disease on record: four weeks unless the platform
    # allows up to twelve (long prescriptions, 长期处方).
    chronic_days: int = 28
    max_items: int = 5
    # Children younger than this need their guardian in the consultation.
    guardian_age_years: int = 6


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """What a rule found. An error blocks the prescription; a warning needs the doctor's
    stated reason (kept with the prescription); info is shown and nothing more."""

    # Stable id of the rule ("special_management", "supply_days"); a plugin's rules are
    # prefixed with the plugin's name ("formulary.not_listed").
    rule: str
    severity: Severity
    message_zh: str
    message_en: str
    # The item it concerns (its index in the draft), or None for the whole prescription.
    item: int | None = None
    # The field named as in the request: "items[1].quantity", "diagnosis".
    field: str | None = None


# A safety rule: a pure function of the draft, the patient and the limits that answers its
# findings (none when all is well). It reads nothing else (no database, no clock, no
# network), so it answers the same for the same arguments.
PrescriptionRule = Callable[[DraftPrescription, PatientFacts, Limits], Iterable[Finding]]
