"""The prescription's state machine and the one function that moves a prescription through it.

issued → approved | rejected (a pharmacist's review); approved → dispensed; issued, approved
or rejected → voided (the prescribing doctor withdraws it, or corrects it with a new
version). Dispensed and voided are final. The database trigger of migration 0070 refuses
any other move, and approving or dispensing what has expired, so this table and that trigger
must agree (a test compares them).

Besides its status a prescription has a standing, what a patient or a pharmacy reads of it
now: an issued one awaits review, a voided one may have been replaced by a new version, and
one that was not dispensed by the end of its last valid day has expired. Only an approved one
that has not expired may be dispensed: ``require_dispensable`` says why not otherwise.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.errors import Conflict
from medmarket.prescriptions.validity import expired

PrescriptionStatus = Literal["issued", "approved", "rejected", "dispensed", "voided"]
Standing = Literal[
    "awaiting_review", "approved", "rejected", "dispensed", "voided", "replaced", "expired"
]

TRANSITIONS: dict[tuple[PrescriptionStatus, PrescriptionStatus], str] = {
    ("issued", "approved"): "prescription.approved",
    ("issued", "rejected"): "prescription.rejected",
    ("approved", "dispensed"): "prescription.dispensed",
    ("issued", "voided"): "prescription.voided",
    ("approved", "voided"): "prescription.voided",
    ("rejected", "voided"): "prescription.voided",
}
VOIDABLE: frozenset[str] = frozenset(start for start, end in TRANSITIONS if end == "voided")


class WrongStatus(Conflict):
    """The prescription's status does not allow this; ``status_now`` says what it is."""

    slug, title = "wrong-prescription-status", "The prescription's status does not allow this"

    def __init__(self, detail: str, *, status_now: str, **extra: Any) -> None:
        super().__init__(
            detail, field="status", code="wrong-status", status_now=status_now, **extra
        )


class NotDispensable(Conflict):
    """Nothing may be dispensed on this prescription; ``code`` is its standing and
    ``replaced_by`` names the version that replaced a corrected one."""

    slug, title = "not-dispensable", "This prescription cannot be dispensed"


def standing(
    status: str, expires_at: dt.datetime, replaced_by: uuid.UUID | None, now: dt.datetime
) -> Standing:
    if status == "dispensed":
        return "dispensed"
    if status == "voided":
        return "replaced" if replaced_by is not None else "voided"
    if status == "rejected":
        return "rejected"
    if expired(expires_at, now):
        return "expired"
    return "approved" if status == "approved" else "awaiting_review"


_NOT_DISPENSABLE: dict[Standing, str] = {
    "awaiting_review": "a pharmacist has not approved this prescription yet",
    "rejected": "a pharmacist rejected this prescription",
    "dispensed": "this prescription has been dispensed already",
    "voided": "the doctor voided this prescription",
    "replaced": "this prescription was corrected: dispense the version that replaced it",
    "expired": "this prescription has expired: the patient needs a new one",
}


def require_dispensable(
    status: str, expires_at: dt.datetime, replaced_by: uuid.UUID | None, now: dt.datetime
) -> None:
    """Raise NotDispensable unless the prescription is approved and has not expired (what
    the dispensing desk asks before it hands anything over)."""
    found = standing(status, expires_at, replaced_by, now)
    if found == "approved":
        return
    extra: dict[str, Any] = {"standing": found, "expires_at": expires_at.isoformat()}
    if replaced_by is not None:
        extra["replaced_by"] = str(replaced_by)
    raise NotDispensable(_NOT_DISPENSABLE[found], field="status", code=found, **extra)


async def change_status(
    connection: Connection,
    prescription: asyncpg.Record,
    target: PrescriptionStatus,
    context: AuditContext,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Move ``prescription`` (a row with id, status and consultation_id that the caller
    locked with FOR UPDATE) to ``target``, with its audit event, in the caller's
    transaction. Voiding keeps who voided it, when and ``reason``. Raises WrongStatus when
    the move is not allowed from its current status."""
    current = prescription["status"]
    action = TRANSITIONS.get((current, target))
    if action is None:
        raise WrongStatus(
            f"the prescription is {current}; it cannot become {target}", status_now=current
        )
    voiding = target == "voided"
    updated = await connection.execute(
        """
        UPDATE prescriptions
           SET status = $3, status_changed_at = now(),
               voided_at = CASE WHEN $4 THEN now() END,
               voided_by = CASE WHEN $4 THEN $5::uuid END,
               void_reason = CASE WHEN $4 THEN $6 END
         WHERE id = $1 AND status = $2
        """,
        prescription["id"],
        current,
        target,
        voiding,
        context.actor_id,
        reason,
    )
    if updated != "UPDATE 1":  # the caller did not hold the lock; never move blindly
        raise Conflict("the prescription changed meanwhile; reload it", code="changed")
    await audit.record(
        connection,
        context,
        action,
        "prescription",
        prescription["id"],
        consultation_id=prescription["consultation_id"],
        detail={
            "from": current,
            "to": target,
            **({"reason": reason} if reason else {}),
            **(detail or {}),
        },
    )
