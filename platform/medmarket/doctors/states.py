"""The application's state machine and the one function that moves a doctor through it.

draft → submitted → verifying → approved | needs_review;  needs_review → verifying (recheck)
| approved | rejected;  approved → suspended → approved (reinstated);  rejected → draft (the
doctor revises and applies again). The database trigger of migration 0010 refuses any other
move, so this table and that trigger must agree (a test compares them).

Every move writes the status, a history row the doctor, their hospital's admins and
operators read, and an audit event, in the caller's transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.doctors.schemas import DoctorStatus
from medmarket.errors import Conflict


class WrongStatus(Conflict):
    """The application's status does not allow this; ``status_now`` says what it is."""

    slug, title = "wrong-status", "The application's status does not allow this"

    def __init__(self, detail: str, *, status_now: str) -> None:
        super().__init__(detail, status_now=status_now)


TRANSITIONS: dict[tuple[DoctorStatus, DoctorStatus], str] = {
    ("draft", "submitted"): "doctor.application_submitted",
    ("submitted", "verifying"): "doctor.verification_started",
    ("verifying", "approved"): "doctor.approved",
    ("verifying", "needs_review"): "doctor.needs_review",
    ("needs_review", "verifying"): "doctor.verification_started",
    ("needs_review", "approved"): "doctor.approved",
    ("needs_review", "rejected"): "doctor.rejected",
    ("approved", "suspended"): "doctor.suspended",
    ("suspended", "approved"): "doctor.reinstated",
    ("rejected", "draft"): "doctor.application_reopened",
}


def can_move(current: str, target: DoctorStatus) -> bool:
    return (current, target) in TRANSITIONS


async def change_status(
    connection: Connection,
    doctor: asyncpg.Record,
    target: DoctorStatus,
    context: AuditContext,
    *,
    reason_code: str,
    reason: str | None = None,
    params: dict[str, Any] | None = None,
    verification_run: uuid.UUID | None = None,
) -> int:
    """Move ``doctor`` (a row the caller locked with FOR UPDATE) to ``target``.

    The moments that belong to a status are kept with it: ``submitted_at`` when submitted,
    ``decided_at`` when approved or rejected; ``verification_run`` names the run that owns a
    doctor in ``verifying`` and is cleared on leaving it. Returns the history row's id.
    Raises Conflict when the move is not allowed from the doctor's current status.
    """
    current = doctor["status"]
    action = TRANSITIONS.get((current, target))
    if action is None:
        raise WrongStatus(
            f"the application is {current}; it cannot become {target}",
            status_now=current,
        )
    updated = await connection.execute(
        """
        UPDATE doctors
           SET status = $3, status_reason_code = $4, status_reason = $5, updated_at = now(),
               submitted_at = CASE WHEN $3 = 'submitted' THEN now() ELSE submitted_at END,
               decided_at = CASE WHEN $3 IN ('approved', 'rejected') THEN now()
                                 ELSE decided_at END,
               verification_run = CASE WHEN $3 = 'verifying' THEN $6::uuid END
         WHERE id = $1 AND status = $2
        """,
        doctor["id"],
        current,
        target,
        reason_code,
        reason,
        verification_run,
    )
    if updated != "UPDATE 1":  # the caller did not hold the lock; never move blindly
        raise Conflict("the application changed meanwhile; reload it", code="changed")
    change_id: int = await connection.fetchval(
        """
        INSERT INTO doctor_status_changes
               (doctor_id, from_status, to_status, reason_code, reason, params, actor_id,
                actor_role)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING id
        """,
        doctor["id"],
        current,
        target,
        reason_code,
        reason,
        params or {},
        context.actor_id,
        context.actor_role or "system",
    )
    await audit.record(
        connection,
        context,
        action,
        "doctor",
        doctor["id"],
        detail={
            "from": current,
            "to": target,
            "reason_code": reason_code,
            **({"reason": reason} if reason else {}),
            **({"params": params} if params else {}),
        },
    )
    return change_id


async def record_creation(
    connection: Connection, doctor_id: uuid.UUID, context: AuditContext
) -> None:
    """The first history row: the application exists, as a draft."""
    await connection.execute(
        """
        INSERT INTO doctor_status_changes
               (doctor_id, from_status, to_status, reason_code, actor_id, actor_role)
        VALUES ($1, NULL, 'draft', 'application_saved', $2, $3)
        """,
        doctor_id,
        context.actor_id,
        context.actor_role or "system",
    )
    await audit.record(connection, context, "doctor.application_created", "doctor", doctor_id)
