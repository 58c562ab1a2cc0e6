"""Decisions people make about a doctor: operators approve, reject, re-check, suspend and
reinstate; a hospital's admin ends the doctor's affiliation with their hospital.

Each decision carries a reason the doctor sees, moves the doctor through ``states``, and
notifies in the same transaction. Suspension also publishes ``doctor.suspended``; approval
and reinstatement give the doctor their signing key (``signing_keys``).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.audit.service import Outcome
from medmarket.db import Connection, fetch_one
from medmarket.doctors import checks as rules
from medmarket.doctors import signing_keys, verification
from medmarket.doctors.access import visible_doctor
from medmarket.doctors.events import DoctorSuspended, announce_suspension
from medmarket.doctors.notify import notify_hospital_admins, notify_user
from medmarket.doctors.states import WrongStatus, change_status
from medmarket.errors import Conflict, InvalidInput
from medmarket.hospitals import adapters
from medmarket.hospitals.interface import AffiliationQuery
from medmarket.plugin_manager import PluginUnavailable
from medmarket.sealed import Sealer
from medmarket.services import Services


class ChecksNotPassed(Conflict):
    """A decision needs every check to pass; ``checks`` names those that did not."""

    slug, title = "checks-not-passed", "The hospital does not confirm every credential"


def _reason(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("reason: say why, in words the doctor will read", field="reason")
    return cleaned


async def suspend(
    connection: Connection,
    doctor: asyncpg.Record,
    context: AuditContext,
    *,
    reason_code: str,
    reason: str | None = None,
    params: dict[str, Any] | None = None,
) -> int:
    """approved → suspended, told to the doctor, their hospital's admins and (through
    ``doctor.suspended``) to booking. ``doctor`` is locked by the caller."""
    change_id = await change_status(
        connection,
        doctor,
        "suspended",
        context,
        reason_code=reason_code,
        reason=reason,
        params=params,
    )
    suspended_at = await connection.fetchval(
        "SELECT occurred_at FROM doctor_status_changes WHERE id = $1", change_id
    )
    await announce_suspension(
        connection,
        DoctorSuspended(
            doctor_id=doctor["id"],
            user_id=doctor["user_id"],
            hospital_id=doctor["hospital_id"],
            reason_code=reason_code,
            reason=reason,
            suspended_at=suspended_at,
            status_change_id=change_id,
        ),
    )
    notice = {"doctor_id": doctor["id"], "reason_code": reason_code, **(params or {})}
    if reason:
        notice["reason"] = reason
    await notify_user(
        connection,
        doctor["user_id"],
        "doctor.suspended",
        notice,
        key=f"doctor.suspended:{doctor['id']}:{change_id}",
        urgency="high",
    )
    await notify_hospital_admins(
        connection,
        doctor["hospital_id"],
        "hospital.doctor_suspended",
        {**notice, "full_name": doctor["full_name"]},
        key=f"hospital.doctor_suspended:{doctor['id']}:{change_id}",
    )
    return change_id


def _must_be_suspended(doctor: asyncpg.Record) -> asyncpg.Record:
    if doctor["status"] != "suspended":
        raise WrongStatus(
            f"the application is {doctor['status']}; only a suspended doctor is reinstated",
            status_now=doctor["status"],
        )
    return doctor


async def _only_what_the_checks_left_open(connection: Connection, doctor: asyncpg.Record) -> None:
    """An operator approves what the checks could not settle, never against them: only an
    application waiting for review, and only when no check of its latest run failed (an
    expired licence or two years of practice are rejected, or re-checked once the hospital
    corrects its records)."""
    if doctor["status"] != "needs_review":
        raise WrongStatus(
            f"the application is {doctor['status']}; an operator approves only what waits "
            "for review",
            status_now=doctor["status"],
        )
    failed = await connection.fetch(
        """
        SELECT kind FROM doctor_checks
         WHERE run_id = (SELECT run_id FROM doctor_checks WHERE doctor_id = $1
                          ORDER BY id DESC LIMIT 1)
           AND outcome = 'failed'
         ORDER BY id
        """,
        doctor["id"],
    )
    if failed:
        raise ChecksNotPassed(
            "the hospital's answer breaks a rule for online practice; reject the application "
            "with a reason, or re-check once the hospital has corrected its records",
            checks=[row["kind"] for row in failed],
        )


class DoctorDecisions:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.db = services.db

    async def _give_signing_key(
        self, connection: Connection, doctor_id: uuid.UUID, context: AuditContext
    ) -> None:
        """An approved doctor signs with a key of their own, made as they are approved."""
        await signing_keys.signing_key_for(
            connection, doctor_id, sealer=Sealer(self.services.settings.secret_key), context=context
        )

    async def approve(
        self, principal: Principal, doctor_id: uuid.UUID, reason: str, context: AuditContext
    ) -> None:
        await self._decide(principal, doctor_id, "approved", reason, context)

    async def reject(
        self, principal: Principal, doctor_id: uuid.UUID, reason: str, context: AuditContext
    ) -> None:
        await self._decide(principal, doctor_id, "rejected", reason, context)

    async def _decide(
        self,
        principal: Principal,
        doctor_id: uuid.UUID,
        decision: Literal["approved", "rejected"],
        reason: str,
        context: AuditContext,
    ) -> None:
        """An operator's decision on an application; the doctor is told, with the reason."""
        reason = _reason(reason)
        template = f"doctor.application.{decision}"
        async with self.db.transaction() as connection:
            doctor = await visible_doctor(connection, principal, doctor_id, lock=True)
            if decision == "approved":
                await _only_what_the_checks_left_open(connection, doctor)
            change_id = await change_status(
                connection,
                doctor,
                decision,
                context,
                reason_code="operator_decision",
                reason=reason,
            )
            if decision == "approved":
                await self._give_signing_key(connection, doctor_id, context)
            await notify_user(
                connection,
                doctor["user_id"],
                template,
                {"doctor_id": doctor_id, "reason": reason},
                key=f"{template}:{doctor_id}:{change_id}",
            )

    async def recheck(
        self, principal: Principal, doctor_id: uuid.UUID, note: str | None, context: AuditContext
    ) -> None:
        """Ask the hospital again (it was down, or its records were corrected)."""
        run_id = uuid.uuid4()
        async with self.db.transaction() as connection:
            doctor = await visible_doctor(connection, principal, doctor_id, lock=True)
            await change_status(
                connection,
                doctor,
                "verifying",
                context,
                reason_code="recheck_requested",
                reason=(note or "").strip() or None,
                verification_run=run_id,
            )
        await verification.settle(self.services, doctor_id, run_id, "recheck", context)

    async def suspend(
        self, principal: Principal, doctor_id: uuid.UUID, reason: str, context: AuditContext
    ) -> None:
        reason = _reason(reason)
        async with self.db.transaction() as connection:
            doctor = await visible_doctor(connection, principal, doctor_id, lock=True)
            await suspend(
                connection, doctor, context, reason_code="operator_decision", reason=reason
            )

    async def reinstate(
        self, principal: Principal, doctor_id: uuid.UUID, reason: str, context: AuditContext
    ) -> None:
        """suspended → approved, only when the hospital confirms the doctor again: every
        check runs first and is kept, whatever the decision."""
        reason = _reason(reason)
        doctor = _must_be_suspended(await visible_doctor(self.db.pool, principal, doctor_id))
        answer = await verification.ask_hospital_of(self.services, doctor)
        today = verification.platform_today(self.services.settings)
        results = rules.evaluate(answer, doctor["title"], today)
        passed = rules.overall(results) == "passed"
        async with self.db.transaction() as connection:
            doctor = _must_be_suspended(
                await visible_doctor(connection, principal, doctor_id, lock=True)
            )
            await verification.store_checks(
                connection, doctor_id, uuid.uuid4(), "reinstatement", results
            )
            if passed:
                await verification.record_confirmed_facts(
                    connection, doctor_id, answer, verified=True
                )
                change_id = await change_status(
                    connection,
                    doctor,
                    "approved",
                    context,
                    reason_code="operator_decision",
                    reason=reason,
                )
                # Their key from before, or a first one for a doctor approved before keys.
                await self._give_signing_key(connection, doctor_id, context)
                await notify_user(
                    connection,
                    doctor["user_id"],
                    "doctor.reinstated",
                    {"doctor_id": doctor_id, "reason": reason},
                    key=f"doctor.reinstated:{doctor_id}:{change_id}",
                )
        if not passed:
            raise ChecksNotPassed(
                "the hospital does not confirm every credential yet, so the doctor stays "
                "suspended; see the latest checks",
                checks=[r.kind for r in results if r.outcome != "passed"],
            )

    async def end_affiliation(
        self, principal: Principal, doctor_id: uuid.UUID, reason: str, context: AuditContext
    ) -> None:
        """The hospital ends the doctor's affiliation: suspended at once on the platform,
        then the hospital's own systems are told (if that fails, the audit trail says so)."""
        reason = _reason(reason)
        today = verification.platform_today(self.services.settings)
        async with self.db.transaction() as connection:
            doctor = await visible_doctor(connection, principal, doctor_id, lock=True)
            await suspend(
                connection,
                doctor,
                context,
                reason_code="affiliation_ended_by_hospital",
                reason=reason,
                params={"ends_on": today.isoformat()},
            )
            await connection.execute(
                "UPDATE doctors SET affiliation_ends_on = $2 WHERE id = $1", doctor_id, today
            )
            hospital = await fetch_one(
                connection,
                "SELECT id, adapter_type, adapter_config FROM hospitals WHERE id = $1",
                doctor["hospital_id"],
            )
        query = AffiliationQuery(
            licence_number=doctor["licence_number"],
            full_name=doctor["full_name"],
            department=doctor["department"],
        )
        outcome: Outcome = "success"
        detail: dict[str, Any] = {}
        try:
            async with adapters.connect(
                self.services.plugins,
                hospital["id"],
                hospital["adapter_type"],
                hospital["adapter_config"],
            ) as connected:
                await connected.end_affiliation(query, reason)
        except PluginUnavailable as exc:
            outcome, detail = "failed", {"error": exc.detail}
        async with self.db.transaction() as connection:
            await audit.record(
                connection,
                context,
                "doctor.affiliation_end_reported",
                "doctor",
                doctor_id,
                outcome=outcome,
                detail=detail,
            )
