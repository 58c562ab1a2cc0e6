"""What the safety rules read (``model``), built from where it lives: the drug catalog, the
patient's health record, the consultation and the platform's settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg

from medmarket.db import Connection
from medmarket.drugs.service import COLUMNS as DRUG_COLUMNS
from medmarket.drugs.service import drug_out
from medmarket.patients.service import GUARDIAN_AGE, HealthRecord
from medmarket.prescriptions.model import DrugFacts, Limits, PatientFacts
from medmarket.settings import Settings


def limits(settings: Settings) -> Limits:
    return Limits(
        acute_days=settings.prescription_acute_days,
        chronic_days=settings.prescription_chronic_days,
        max_items=settings.prescription_max_items,
        # The age below which bookings require the guardian, so the two never disagree.
        guardian_age_years=GUARDIAN_AGE,
    )


async def drug_facts(
    connection: Connection, drug_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, DrugFacts]:
    """The catalog's rows for these drugs, retired ones too (a rule decides about those);
    an id the catalog does not have is simply absent."""
    rows = await connection.fetch(
        f"SELECT {DRUG_COLUMNS} FROM drugs WHERE id = ANY($1::uuid[])",  # noqa: S608 - constant
        list(set(drug_ids)),
    )
    found = {}
    for row in rows:
        drug = drug_out(row)
        found[drug.id] = DrugFacts(
            id=drug.id,
            generic_name_zh=drug.generic_name_zh,
            generic_name_en=drug.generic_name_en,
            aliases=tuple(drug.aliases),
            dosage_form=drug.dosage_form,
            strength=drug.strength,
            unit=drug.unit,
            route=drug.route,
            atc_code=drug.atc_code,
            prescription_only=drug.prescription_only,
            special_class=drug.special_class,
            retired=drug.retired_at is not None,
        )
    return found


def patient_facts(record: HealthRecord, consultation: asyncpg.Record) -> PatientFacts:
    """The patient's record as the rules read it. The guardian is present when the patient
    is a family member of the account that booked (its holder is their guardian) and that
    account holder came into the consultation (only they enter it as the patient's side)."""
    account_holder_came = (
        consultation["waiting_since"] is not None or consultation["patient_joined_at"] is not None
    )
    return PatientFacts(
        date_of_birth=record.date_of_birth,
        allergies=record.allergies,
        chronic_conditions=record.chronic_conditions,
        current_medications=record.current_medications,
        guardian_present=record.relationship != "self" and account_holder_came,
    )
