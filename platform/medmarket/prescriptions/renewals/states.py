"""A renewal request's state machine and the one function that moves a request through it.

requested → awaiting_doctor (paid) | cancelled (the patient withdrew it, or it was not paid
in time); awaiting_doctor → renewed (the doctor wrote the renewal) | visit_requested (the
doctor asks to see the patient; refunded) | expired (not answered by answer_due_at;
refunded). The last four are final. The trigger of migration 0072 refuses any other move,
an answer at or after answer_due_at and an expiry before it, so this table and that trigger
must agree (a test compares them).
"""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.errors import Conflict

RenewalStatus = Literal[
    "requested", "awaiting_doctor", "renewed", "visit_requested", "expired", "cancelled"
]
OPEN: frozenset[str] = frozenset({"requested", "awaiting_doctor"})

TRANSITIONS: dict[tuple[RenewalStatus, RenewalStatus], str] = {
    ("requested", "awaiting_doctor"): "prescription_renewal.paid",
    ("requested", "cancelled"): "prescription_renewal.cancelled",
    ("awaiting_doctor", "renewed"): "prescription_renewal.renewed",
    ("awaiting_doctor", "visit_requested"): "prescription_renewal.visit_requested",
    ("awaiting_doctor", "expired"): "prescription_renewal.expired",
}
# What each move sets besides the status (``$4`` in ``_MOVE``: the column's new value).
_COLUMNS: dict[RenewalStatus, tuple[str, ...]] = {
    "awaiting_doctor": ("paid_at", "answer_due_at"),
    "renewed": ("renewal_id",),
    "visit_requested": ("visit_message",),
}
SUBJECT = "prescription_renewal"


class WrongRenewalStatus(Conflict):
    """The request's status does not allow this; ``status_now`` says what it is."""

    slug, title = "wrong-renewal-status", "The renewal request's status does not allow this"

    def __init__(self, detail: str, *, status_now: str, **extra: Any) -> None:
        super().__init__(
            detail, field="status", code="wrong-status", status_now=status_now, **extra
        )


async def move(
    connection: Connection,
    renewal: asyncpg.Record,
    target: RenewalStatus,
    context: AuditContext,
    *,
    values: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Move ``renewal`` (a row with id, status and consultation_id that the caller locked
    with FOR UPDATE) to ``target``, setting what that status keeps (``values``: paid_at and
    answer_due_at when paid, renewal_id when renewed, visit_message for a visit), with its
    audit event in the caller's transaction. A move into a final status closes the request.
    Raises WrongRenewalStatus when the move is not allowed from its current status."""
    current = renewal["status"]
    action = TRANSITIONS.get((current, target))
    if action is None:
        raise WrongRenewalStatus(
            f"the renewal request is {current}; it cannot become {target}", status_now=current
        )
    given = dict(values or {})
    if set(given) != set(_COLUMNS.get(target, ())):
        raise ValueError(f"becoming {target} sets {_COLUMNS.get(target, ())}, not {set(given)}")
    assignments = [f"{column} = ${index}" for index, column in enumerate(given, start=4)]
    if target not in OPEN:
        assignments.append("closed_at = now()")
    updated = await connection.execute(
        "UPDATE prescription_renewals SET status = $3, status_changed_at = now()"  # noqa: S608
        + "".join(", " + assignment for assignment in assignments)
        + " WHERE id = $1 AND status = $2",
        renewal["id"],
        current,
        target,
        *given.values(),
    )
    if updated != "UPDATE 1":  # the caller did not hold the lock; never move blindly
        raise Conflict("the renewal request changed meanwhile; reload it", code="changed")
    await audit.record(
        connection,
        context,
        action,
        SUBJECT,
        renewal["id"],
        consultation_id=renewal["consultation_id"],
        detail={"from": current, "to": target, **(detail or {})},
    )
