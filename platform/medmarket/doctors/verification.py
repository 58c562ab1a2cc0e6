"""Asking a doctor's hospital about them, and settling an application with the answer.

The hospital is asked outside any transaction (its systems may take seconds or fail); the
answer is then written in one transaction with the checks, the status change, the audit
event and the notification. A doctor in ``verifying`` belongs to one run
(``verification_run``): a run that was overtaken (its process stalled and the daily job
resumed the doctor) finds a different run id and writes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable
from typing import TypeVar

import asyncpg

from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.doctors import checks as rules
from medmarket.doctors import signing_keys
from medmarket.doctors.notify import notify_user
from medmarket.doctors.schemas import CheckPurpose
from medmarket.doctors.states import change_status
from medmarket.hospitals import adapters
from medmarket.hospitals.interface import AffiliationQuery, LicenceQuery
from medmarket.plugin_manager import PluginUnavailable
from medmarket.sealed import Sealer
from medmarket.services import Services
from medmarket.settings import Settings

T = TypeVar("T")


def platform_today(settings: Settings) -> dt.date:
    """Today in the platform's time zone: licences expire on Chinese calendar days."""
    return dt.datetime.now(settings.calendar).date()


def system_context(context: AuditContext) -> AuditContext:
    """The platform itself acting (automatic decisions), within the request that caused it."""
    return AuditContext(actor_role="system", request_id=context.request_id)


async def _attempt(call: Awaitable[T]) -> tuple[T | None, str | None]:
    try:
        return await call, None
    except PluginUnavailable as exc:
        return None, exc.detail


async def ask(hospital: adapters.ConnectedHospital, doctor: asyncpg.Record) -> rules.HospitalAnswer:
    """Both questions at once; each may fail on its own."""
    licence_query = LicenceQuery(
        licence_number=doctor["licence_number"], full_name=doctor["full_name"]
    )
    affiliation_query = AffiliationQuery(
        licence_number=doctor["licence_number"],
        full_name=doctor["full_name"],
        department=doctor["department"],
    )
    (licence, licence_error), (affiliation, affiliation_error) = await asyncio.gather(
        _attempt(hospital.verify_licence(licence_query)),
        _attempt(hospital.confirm_affiliation(affiliation_query)),
    )
    errors = {
        name: detail
        for name, detail in (("licence", licence_error), ("affiliation", affiliation_error))
        if detail
    }
    return rules.HospitalAnswer(
        licence=licence,
        affiliation=affiliation,
        licence_error="hospital_unavailable" if licence_error else None,
        affiliation_error="hospital_unavailable" if affiliation_error else None,
        error_detail=errors,
    )


def unanswered(exc: adapters.HospitalNotConnected) -> rules.HospitalAnswer:
    return rules.HospitalAnswer(
        licence_error="hospital_not_connected",
        affiliation_error="hospital_not_connected",
        error_detail={"licence": exc.detail, "affiliation": exc.detail},
    )


async def ask_hospital_of(services: Services, doctor: asyncpg.Record) -> rules.HospitalAnswer:
    hospital = await services.db.fetchrow(
        "SELECT id, adapter_type, adapter_config FROM hospitals WHERE id = $1",
        doctor["hospital_id"],
    )
    assert hospital is not None  # a foreign key
    try:
        async with adapters.connect(
            services.plugins, hospital["id"], hospital["adapter_type"], hospital["adapter_config"]
        ) as connected:
            return await ask(connected, doctor)
    except adapters.HospitalNotConnected as exc:
        return unanswered(exc)


async def store_checks(
    connection: Connection,
    doctor_id: uuid.UUID,
    run_id: uuid.UUID,
    purpose: CheckPurpose,
    results: list[rules.CheckResult],
) -> None:
    await connection.executemany(
        """
        INSERT INTO doctor_checks (doctor_id, run_id, purpose, kind, outcome, code, params,
                                   evidence)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        [
            (
                doctor_id,
                run_id,
                purpose,
                result.kind,
                result.outcome,
                result.code,
                result.params,
                result.evidence,
            )
            for result in results
        ],
    )


async def record_confirmed_facts(
    connection: Connection,
    doctor_id: uuid.UUID,
    answer: rules.HospitalAnswer,
    *,
    verified: bool,
) -> None:
    """Keep on the doctor's row what the hospital confirmed (only what it actually said);
    ``verified`` stamps ``verified_at`` (every check passed)."""
    licence = answer.licence if answer.licence is not None and answer.licence.valid else None
    affiliation = answer.affiliation
    department = (licence.department if licence else None) or (
        affiliation.department if affiliation else None
    )
    await connection.execute(
        """
        UPDATE doctors
           SET practice_started_on = coalesce($2, practice_started_on),
               licence_expires_on = coalesce($3, licence_expires_on),
               department = coalesce($4, department),
               affiliation_ends_on = CASE WHEN $5 THEN $6::date ELSE affiliation_ends_on END,
               verified_at = CASE WHEN $7 THEN now() ELSE verified_at END
         WHERE id = $1
        """,
        doctor_id,
        licence.practice_started_on if licence else None,
        licence.licence_expires_on if licence else None,
        department,
        affiliation is not None,
        affiliation.ends_on if affiliation else None,
        verified,
    )


async def settle(
    services: Services,
    doctor_id: uuid.UUID,
    run_id: uuid.UUID,
    purpose: CheckPurpose,
    context: AuditContext,
    *,
    today: dt.date | None = None,
) -> bool:
    """Ask the hospital about a doctor in ``verifying`` (owned by ``run_id``) and move them
    to ``approved`` (every check passed) or ``needs_review``. False when the run was
    overtaken and wrote nothing."""
    doctor = await services.db.fetchrow("SELECT * FROM doctors WHERE id = $1", doctor_id)
    if doctor is None or doctor["verification_run"] != run_id:
        return False
    answer = await ask_hospital_of(services, doctor)
    results = rules.evaluate(answer, doctor["title"], today or platform_today(services.settings))
    automatic = system_context(context)
    async with services.db.transaction() as connection:
        doctor = await connection.fetchrow(
            "SELECT * FROM doctors WHERE id = $1 AND status = 'verifying' "
            "AND verification_run = $2 FOR UPDATE",
            doctor_id,
            run_id,
        )
        if doctor is None:
            return False
        await store_checks(connection, doctor_id, run_id, purpose, results)
        passed = rules.overall(results) == "passed"
        await record_confirmed_facts(connection, doctor_id, answer, verified=passed)
        if passed:
            change_id = await change_status(
                connection, doctor, "approved", automatic, reason_code="all_checks_passed"
            )
            await signing_keys.signing_key_for(
                connection,
                doctor_id,
                sealer=Sealer(services.settings.secret_key),
                context=automatic,
            )
            template = "doctor.application.approved"
        else:
            change_id = await change_status(
                connection,
                doctor,
                "needs_review",
                automatic,
                reason_code="checks_need_review",
                params={"kinds": rules.not_passed(results)},
            )
            template = "doctor.application.needs_review"
        await notify_user(
            connection,
            doctor["user_id"],
            template,
            {"doctor_id": doctor_id},
            key=f"{template}:{doctor_id}:{change_id}",
        )
    return True
