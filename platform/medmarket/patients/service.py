"""The rules for patients: real-name details, family members, consent and health profiles.

Ownership: an account sees and changes only the patients it owns; anything else is answered
exactly like a record that does not exist.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import msgspec
import phonenumbers

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database, fetch_one
from medmarket.errors import InvalidInput, NotFound, Problem
from medmarket.patients.schemas import (
    ConsentIn,
    ConsentOut,
    FamilyMemberIn,
    HealthProfile,
    HealthProfileOut,
    MyPatientsOut,
    PatientDetails,
    PatientOut,
    Relationship,
    Sex,
)

# The health-data processing policy a patient agrees to; bump it when the text changes.
CURRENT_POLICY_VERSION = "2026-11"
GUARDIAN_AGE = 6
_PATIENT_COLUMNS = "id, relationship, real_name, date_of_birth, sex, phone"


class ConsentRequired(Problem):
    status, slug, title = 409, "consent-required", "Agree to the processing of health data first"


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def normalize_phone(raw: str) -> str:
    """E.164; numbers without a country code are read as Chinese (+86)."""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput("not a phone number", field="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("not a valid phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_birth_date(born: dt.date, field: str = "date_of_birth") -> None:
    today = dt.datetime.now(dt.UTC).date()
    if born > today:
        raise InvalidInput("the date of birth is in the future", field=field)
    if born.year < 1900:
        raise InvalidInput("the date of birth is too far in the past", field=field)


def _name(raw: str, field: str = "real_name") -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput("enter the real name", field=field)
    return name


def patient_out(row: asyncpg.Record) -> PatientOut:
    today = dt.datetime.now(dt.UTC).date()
    return PatientOut(
        id=row["id"],
        relationship=row["relationship"],
        real_name=row["real_name"],
        date_of_birth=row["date_of_birth"],
        sex=row["sex"],
        phone=row["phone"],
        needs_guardian=age_on(row["date_of_birth"], today) < GUARDIAN_AGE,
    )


class HealthRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What care needs of a patient: who they are to the account and their health profile
    (empty lists and no ``profile_updated_at`` when nothing was ever recorded)."""

    patient_id: uuid.UUID
    relationship: Relationship
    real_name: str
    date_of_birth: dt.date
    sex: Sex | None
    allergies: tuple[str, ...]
    chronic_conditions: tuple[str, ...]
    current_medications: tuple[str, ...]
    profile_updated_at: dt.datetime | None


async def health_record(
    connection: Connection | asyncpg.Pool, patient_id: uuid.UUID
) -> HealthRecord:
    """The patient's record for the care they booked. This decides nothing about who may
    read it: the caller does (a consultation's doctor, while they may prescribe) and
    audits the read. NotFound for a patient that does not exist."""
    row = await connection.fetchrow(
        """
        SELECT p.id AS patient_id, p.relationship, p.real_name, p.date_of_birth, p.sex,
               coalesce(h.allergies, '{}') AS allergies,
               coalesce(h.chronic_conditions, '{}') AS chronic_conditions,
               coalesce(h.current_medications, '{}') AS current_medications,
               h.updated_at AS profile_updated_at
          FROM patients p LEFT JOIN patient_health_profiles h ON h.patient_id = p.id
         WHERE p.id = $1
        """,
        patient_id,
    )
    if row is None:
        raise NotFound("no such patient")
    values = dict(row)
    for name in ("allergies", "chronic_conditions", "current_medications"):
        values[name] = tuple(values[name])
    return HealthRecord(**values)


class Patients:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading ----------------------------------------------------------------------------
    async def owned(
        self,
        connection: Connection | asyncpg.Pool,
        account_id: uuid.UUID,
        patient_id: uuid.UUID,
    ) -> asyncpg.Record:
        row = await connection.fetchrow(
            f"SELECT {_PATIENT_COLUMNS}, account_id FROM patients "  # noqa: S608 - constant
            "WHERE id = $1 AND account_id = $2 AND removed_at IS NULL",
            patient_id,
            account_id,
        )
        if row is None:
            raise NotFound("no such patient")
        return row

    async def active_consent(
        self, connection: Connection | asyncpg.Pool, account_id: uuid.UUID
    ) -> asyncpg.Record | None:
        return await connection.fetchrow(
            "SELECT id, policy_version, granted_at, withdrawn_at FROM health_data_consents "
            "WHERE account_id = $1 AND withdrawn_at IS NULL",
            account_id,
        )

    async def mine(self, principal: Principal) -> MyPatientsOut:
        rows = await self.db.fetch(
            f"SELECT {_PATIENT_COLUMNS} FROM patients "  # noqa: S608 - constant
            "WHERE account_id = $1 AND removed_at IS NULL ORDER BY created_at",
            principal.user_id,
        )
        patients = [patient_out(row) for row in rows]
        consent = await self.active_consent(self.db.pool, principal.user_id)
        return MyPatientsOut(
            me=next((p for p in patients if p.relationship == "self"), None),
            family=[p for p in patients if p.relationship != "self"],
            consent=ConsentOut(**dict(consent)) if consent else None,
            current_policy_version=CURRENT_POLICY_VERSION,
        )

    async def patient(self, principal: Principal, patient_id: uuid.UUID) -> PatientOut:
        return patient_out(await self.owned(self.db.pool, principal.user_id, patient_id))

    # -- the account holder -----------------------------------------------------------------
    async def set_details(
        self, principal: Principal, details: PatientDetails, context: AuditContext
    ) -> PatientOut:
        _check_birth_date(details.date_of_birth)
        name, phone = _name(details.real_name), normalize_phone(details.phone)
        async with self.db.transaction() as connection:
            row = await fetch_one(
                connection,
                """
                INSERT INTO patients (account_id, relationship, real_name, date_of_birth, sex,
                                      phone)
                VALUES ($1, 'self', $2, $3, $4, $5)
                ON CONFLICT (account_id) WHERE relationship = 'self'
                DO UPDATE SET real_name = EXCLUDED.real_name,
                              date_of_birth = EXCLUDED.date_of_birth,
                              sex = EXCLUDED.sex, phone = EXCLUDED.phone
                RETURNING id, relationship, real_name, date_of_birth, sex, phone
                """,
                principal.user_id,
                name,
                details.date_of_birth,
                details.sex,
                phone,
            )
            await audit.record(connection, context, "patient.details_set", "patient", row["id"])
        return patient_out(row)

    # -- consent ----------------------------------------------------------------------------
    async def grant_consent(
        self, principal: Principal, consent: ConsentIn, context: AuditContext
    ) -> ConsentOut:
        if not consent.agree:
            raise InvalidInput("consent must be given explicitly", field="agree")
        if consent.policy_version != CURRENT_POLICY_VERSION:
            raise InvalidInput(
                f"the current policy is version {CURRENT_POLICY_VERSION}; read it and agree to it",
                field="policy_version",
            )
        async with self.db.transaction() as connection:
            existing = await self.active_consent(connection, principal.user_id)
            if existing is not None and existing["policy_version"] == consent.policy_version:
                return ConsentOut(**dict(existing))
            if existing is not None:
                await connection.execute(
                    "UPDATE health_data_consents SET withdrawn_at = now() WHERE id = $1",
                    existing["id"],
                )
            row = await fetch_one(
                connection,
                """
                INSERT INTO health_data_consents (account_id, policy_version, ip, user_agent)
                VALUES ($1, $2, $3::inet, $4)
                RETURNING id, policy_version, granted_at, withdrawn_at
                """,
                principal.user_id,
                consent.policy_version,
                context.ip,
                context.user_agent,
            )
            await audit.record(
                connection,
                context,
                "consent.granted",
                "consent",
                row["id"],
                detail={"policy_version": consent.policy_version},
            )
        return ConsentOut(**dict(row))

    async def withdraw_consent(self, principal: Principal, context: AuditContext) -> None:
        async with self.db.transaction() as connection:
            consent_id = await connection.fetchval(
                "UPDATE health_data_consents SET withdrawn_at = now() "
                "WHERE account_id = $1 AND withdrawn_at IS NULL RETURNING id",
                principal.user_id,
            )
            if consent_id is not None:
                await audit.record(connection, context, "consent.withdrawn", "consent", consent_id)

    async def require_consent(self, connection: Connection, account_id: uuid.UUID) -> uuid.UUID:
        consent = await self.active_consent(connection, account_id)
        if consent is None:
            raise ConsentRequired(
                "agree to the processing of health data before adding health information",
                current_policy_version=CURRENT_POLICY_VERSION,
            )
        return consent["id"]  # type: ignore[no-any-return]

    # -- family -----------------------------------------------------------------------------
    async def add_family_member(
        self, principal: Principal, member: FamilyMemberIn, context: AuditContext
    ) -> PatientOut:
        _check_birth_date(member.date_of_birth)
        name = _name(member.real_name)
        async with self.db.transaction() as connection:
            row = await fetch_one(
                connection,
                """
                INSERT INTO patients (account_id, relationship, real_name, date_of_birth, sex)
                VALUES ($1, $2, $3, $4, $5)
                RETURNING id, relationship, real_name, date_of_birth, sex, phone
                """,
                principal.user_id,
                member.relationship,
                name,
                member.date_of_birth,
                member.sex,
            )
            await audit.record(
                connection,
                context,
                "patient.family_added",
                "patient",
                row["id"],
                detail={"relationship": member.relationship},
            )
        return patient_out(row)

    async def remove_family_member(
        self, principal: Principal, patient_id: uuid.UUID, context: AuditContext
    ) -> None:
        async with self.db.transaction() as connection:
            row = await self.owned(connection, principal.user_id, patient_id)
            if row["relationship"] == "self":
                raise InvalidInput("the account holder cannot be removed", field="patient_id")
            await connection.execute(
                "UPDATE patients SET removed_at = now() WHERE id = $1", patient_id
            )
            await audit.record(connection, context, "patient.family_removed", "patient", patient_id)

    # -- health profile ---------------------------------------------------------------------
    async def health_profile(self, principal: Principal, patient_id: uuid.UUID) -> HealthProfileOut:
        await self.owned(self.db.pool, principal.user_id, patient_id)
        row = await self.db.fetchrow(
            "SELECT allergies, chronic_conditions, current_medications, updated_at "
            "FROM patient_health_profiles WHERE patient_id = $1",
            patient_id,
        )
        return HealthProfileOut(**dict(row)) if row else HealthProfileOut()

    async def set_health_profile(
        self,
        principal: Principal,
        patient_id: uuid.UUID,
        profile: HealthProfile,
        context: AuditContext,
    ) -> HealthProfileOut:
        def clean(items: list[str]) -> list[str]:
            return list(dict.fromkeys(" ".join(i.split()) for i in items if i.strip()))

        async with self.db.transaction() as connection:
            await self.owned(connection, principal.user_id, patient_id)
            consent_id = await self.require_consent(connection, principal.user_id)
            row = await fetch_one(
                connection,
                """
                INSERT INTO patient_health_profiles
                       (patient_id, allergies, chronic_conditions, current_medications, consent_id)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (patient_id) DO UPDATE
                   SET allergies = EXCLUDED.allergies,
                       chronic_conditions = EXCLUDED.chronic_conditions,
                       current_medications = EXCLUDED.current_medications,
                       consent_id = EXCLUDED.consent_id, updated_at = now()
                RETURNING allergies, chronic_conditions, current_medications, updated_at
                """,
                patient_id,
                clean(profile.allergies),
                clean(profile.chronic_conditions),
                clean(profile.current_medications),
                consent_id,
            )
            await audit.record(
                connection, context, "patient.health_profile_set", "patient", patient_id
            )
        return HealthProfileOut(**dict(row))
