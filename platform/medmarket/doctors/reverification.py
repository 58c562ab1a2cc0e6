"""The daily re-verification: every approved doctor is checked with their hospital again.

* licence expiring within 30 days (again within 7) → the doctor is reminded, once each;
* licence expired, revoked, or the affiliation ended → suspended at once (which publishes
  ``doctor.suspended`` so booking flags the doctor's future bookings);
* the hospital not answering → nothing is decided on its silence, except what the dates it
  confirmed earlier already say (a licence whose confirmed expiry has passed is expired).

It also resumes applications whose verification stalled (the process that was asking the
hospital died). Run it with ``medmarket reverify``; ``medmarket worker`` runs it once a day
(whichever worker claims the day in ``scheduled_job_runs`` first).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from itertools import groupby
from typing import Any

import asyncpg
import msgspec

from medmarket.audit import AuditContext
from medmarket.doctors import checks as rules
from medmarket.doctors import verification
from medmarket.doctors.decisions import suspend
from medmarket.doctors.notify import notify_user
from medmarket.hospitals import adapters
from medmarket.services import Services

log = logging.getLogger("medmarket.doctors.reverification")

JOB = "doctor_reverification"
EXPIRY_REMINDER_DAYS = (7, 30)  # the smallest window a licence is in decides the reminder
STALLED_AFTER = dt.timedelta(minutes=15)
# A day's run that started this long ago and never finished is taken over.
ABANDONED_AFTER = dt.timedelta(hours=2)
CONCURRENT_DOCTORS_PER_HOSPITAL = 8


class ReverificationSummary(msgspec.Struct, kw_only=True):
    day: dt.date
    checked: int = 0
    confirmed: int = 0
    suspended: int = 0
    reminded: int = 0
    inconclusive: int = 0
    resumed: int = 0


def suspension_reason(
    results: list[rules.CheckResult], doctor: asyncpg.Record, today: dt.date
) -> tuple[str, dict[str, Any]] | None:
    """Why an approved doctor must stop practising now, from today's checks and what the
    hospital confirmed before; None when nothing says so."""
    by_kind = {result.kind: result for result in results}
    if by_kind["licence_valid"].outcome == "failed":
        return "licence_invalid", {}
    expiry = by_kind["licence_unexpired"]
    if expiry.outcome == "failed":
        return "licence_expired", dict(expiry.params)
    stored_expiry = doctor["licence_expires_on"]
    if expiry.outcome == "inconclusive" and stored_expiry is not None and stored_expiry < today:
        return "licence_expired", {"expires_on": stored_expiry.isoformat(), "source": "earlier"}
    affiliation = by_kind["affiliation"]
    if affiliation.outcome == "failed":
        code = "affiliation_ended" if affiliation.code == "affiliation_ended" else "not_affiliated"
        return code, dict(affiliation.params)
    stored_end = doctor["affiliation_ends_on"]
    if affiliation.outcome == "inconclusive" and stored_end is not None and stored_end < today:
        return "affiliation_ended", {"ends_on": stored_end.isoformat(), "source": "earlier"}
    return None


def reminder_window(expires_on: dt.date | None, today: dt.date) -> int | None:
    """The reminder window (in days) the licence's expiry falls in today, if any."""
    if expires_on is None:
        return None
    days_left = (expires_on - today).days
    if days_left < 0:
        return None
    return next((window for window in EXPIRY_REMINDER_DAYS if days_left <= window), None)


async def _reverify_one(
    services: Services,
    doctor: asyncpg.Record,
    answer: rules.HospitalAnswer,
    today: dt.date,
    context: AuditContext,
    summary: ReverificationSummary,
) -> None:
    results = rules.evaluate(answer, doctor["title"], today)
    async with services.db.transaction() as connection:
        current = await connection.fetchrow(
            "SELECT * FROM doctors WHERE id = $1 FOR UPDATE", doctor["id"]
        )
        if current is None or current["status"] != "approved":
            return  # decided otherwise meanwhile
        summary.checked += 1
        await verification.store_checks(
            connection, current["id"], uuid.uuid4(), "reverification", results
        )
        outcome = rules.overall(results)
        summary.inconclusive += outcome == "inconclusive"
        reason = suspension_reason(results, current, today)
        if reason is not None:
            code, params = reason
            await suspend(connection, current, context, reason_code=code, params=params)
            if "ends_on" in params:
                await connection.execute(
                    "UPDATE doctors SET affiliation_ends_on = $2 WHERE id = $1",
                    current["id"],
                    dt.date.fromisoformat(params["ends_on"]),
                )
            summary.suspended += 1
            return
        await verification.record_confirmed_facts(
            connection, current["id"], answer, verified=outcome == "passed"
        )
        summary.confirmed += outcome == "passed"
        expires_on = await connection.fetchval(
            "SELECT licence_expires_on FROM doctors WHERE id = $1", current["id"]
        )
        window = reminder_window(expires_on, today)
        if window is not None:
            template = "doctor.licence_expiring"
            sent = await notify_user(
                connection,
                current["user_id"],
                template,
                {
                    "doctor_id": current["id"],
                    "expires_on": expires_on.isoformat(),
                    "days_left": (expires_on - today).days,
                },
                key=f"{template}:{current['id']}:{expires_on.isoformat()}:{window}",
                urgency="high" if window <= EXPIRY_REMINDER_DAYS[0] else "normal",
            )
            summary.reminded += sent


async def _reverify_hospital(
    services: Services,
    doctors: list[asyncpg.Record],
    today: dt.date,
    context: AuditContext,
    summary: ReverificationSummary,
) -> None:
    """One adapter for the hospital's doctors, asked a few at a time."""
    first = doctors[0]
    limit = asyncio.Semaphore(CONCURRENT_DOCTORS_PER_HOSPITAL)

    async def one(
        doctor: asyncpg.Record,
        connected: adapters.ConnectedHospital | None,
        silence: rules.HospitalAnswer | None,
    ) -> None:
        async with limit:
            try:
                if connected is not None:
                    answer = await verification.ask(connected, doctor)
                else:
                    assert silence is not None
                    answer = silence
                await _reverify_one(services, doctor, answer, today, context, summary)
            except Exception:  # one doctor's trouble must not stop the others
                log.exception("re-verification of doctor %s failed", doctor["id"])

    try:
        async with adapters.connect(
            services.plugins, first["hospital_id"], first["adapter_type"], first["adapter_config"]
        ) as connected:
            await asyncio.gather(*(one(doctor, connected, None) for doctor in doctors))
    except adapters.HospitalNotConnected as exc:
        silence = verification.unanswered(exc)
        await asyncio.gather(*(one(doctor, None, silence) for doctor in doctors))


async def _resume_stalled(
    services: Services,
    hospital_id: uuid.UUID | None,
    today: dt.date,
    context: AuditContext,
    summary: ReverificationSummary,
) -> None:
    """Verifications whose process died (in ``verifying`` for long) are run again."""
    stalled = await services.db.fetch(
        "SELECT id, verification_run FROM doctors "
        "WHERE status = 'verifying' AND updated_at < now() - $1::interval "
        "AND ($2::uuid IS NULL OR hospital_id = $2)",
        STALLED_AFTER,
        hospital_id,
    )
    for doctor in stalled:
        run_id = uuid.uuid4()
        taken = await services.db.fetchval(
            "UPDATE doctors SET verification_run = $3, updated_at = now() "
            "WHERE id = $1 AND status = 'verifying' AND verification_run IS NOT DISTINCT FROM $2 "
            "RETURNING id",
            doctor["id"],
            doctor["verification_run"],
            run_id,
        )
        if taken is None:
            continue
        try:
            await verification.settle(
                services, doctor["id"], run_id, "application", context, today=today
            )
            summary.resumed += 1
        except Exception:
            log.exception("resuming the verification of doctor %s failed", doctor["id"])


async def reverify_all(
    services: Services,
    *,
    today: dt.date | None = None,
    hospital_id: uuid.UUID | None = None,
) -> ReverificationSummary:
    """Re-check every approved doctor (of one hospital, if given) and resume stalled
    verifications. Safe to run again the same day: reminders go out once, a suspended
    doctor is not suspended twice. ``today`` judges expiry (default: the platform's today)."""
    today = today or verification.platform_today(services.settings)
    context = AuditContext(actor_role="system", request_id=f"{JOB}:{today.isoformat()}")
    summary = ReverificationSummary(day=today)
    await _resume_stalled(services, hospital_id, today, context, summary)
    approved = await services.db.fetch(
        """
        SELECT d.*, h.adapter_type, h.adapter_config
          FROM doctors d JOIN hospitals h ON h.id = d.hospital_id
         WHERE d.status = 'approved' AND ($1::uuid IS NULL OR d.hospital_id = $1)
         ORDER BY d.hospital_id, d.id
        """,
        hospital_id,
    )
    groups: Iterable[tuple[uuid.UUID, Iterable[asyncpg.Record]]] = groupby(
        approved, key=lambda row: row["hospital_id"]
    )
    for _, doctors in groups:
        await _reverify_hospital(services, list(doctors), today, context, summary)
    log.info("re-verification %s", msgspec.to_builtins(summary))
    return summary


async def resume_stalled(
    services: Services, *, today: dt.date | None = None
) -> ReverificationSummary:
    """Only the stalled verifications, for the worker's polls between daily runs."""
    today = today or verification.platform_today(services.settings)
    context = AuditContext(actor_role="system", request_id=f"{JOB}:resume")
    summary = ReverificationSummary(day=today)
    await _resume_stalled(services, None, today, context, summary)
    return summary


# -- once a day, whichever worker comes first --------------------------------------------------
async def claim_day(services: Services, day: dt.date) -> bool:
    claimed = await services.db.fetchval(
        """
        INSERT INTO scheduled_job_runs (job, run_on) VALUES ($1, $2)
        ON CONFLICT (job, run_on) DO UPDATE SET started_at = now()
         WHERE scheduled_job_runs.finished_at IS NULL
           AND scheduled_job_runs.started_at < now() - $3::interval
        RETURNING job
        """,
        JOB,
        day,
        ABANDONED_AFTER,
    )
    return claimed is not None


async def finish_day(services: Services, summary: ReverificationSummary) -> None:
    await services.db.execute(
        "UPDATE scheduled_job_runs SET finished_at = now(), summary = $3 "
        "WHERE job = $1 AND run_on = $2",
        JOB,
        summary.day,
        msgspec.to_builtins(summary),
    )


async def tick(services: Services) -> ReverificationSummary | None:
    """One poll of the worker's periodic job: run today's re-verification unless some worker
    already did (or is doing) it; otherwise only resume verifications that stalled, so a
    doctor never waits a day for a crashed request. Returns what it did, None if nothing."""
    day = verification.platform_today(services.settings)
    if await claim_day(services, day):
        summary = await reverify_all(services, today=day)
        await finish_day(services, summary)
        return summary
    resumed = await resume_stalled(services, today=day)
    return resumed if resumed.resumed else None
