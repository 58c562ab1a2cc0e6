"""The two state machines of a remote consultation, and the functions that move through them.

The triggers of migration 0091 refuse any other move, so these tables and those triggers
must agree (a test compares them). Each move records its audit event and a line of the
case's timeline (``remote_consultation_events``) in the caller's transaction.

The case::

    open ──► scheduled ──► in_session ──► opinions ──► decided
      │          │  └──────────┼──────────►▲
      ▼          ▼             ▼
  withdrawn  cancelled     cancelled

Each invited expert's invitation::

    invited ──► accepted        proposed ──► accepted (the requester took the time)
       │ └────► declined            │ └────► declined
       └──────► proposed            └──────► invited  (the requester asks again)
"""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.errors import Conflict

CaseStatus = Literal[
    "open", "scheduled", "in_session", "opinions", "decided", "cancelled", "withdrawn"
]
InvitationStatus = Literal["invited", "accepted", "declined", "proposed"]
SUBJECT = "remote_consultation"

CASE_TRANSITIONS: dict[tuple[CaseStatus, CaseStatus], str] = {
    ("open", "scheduled"): "remote_consult.scheduled",
    ("open", "withdrawn"): "remote_consult.withdrawn",
    ("scheduled", "in_session"): "remote_consult.in_session",
    ("scheduled", "opinions"): "remote_consult.opinions",
    ("scheduled", "cancelled"): "remote_consult.cancelled",
    ("in_session", "opinions"): "remote_consult.opinions",
    ("in_session", "cancelled"): "remote_consult.cancelled",
    ("opinions", "decided"): "remote_consult.decided",
}
INVITATION_TRANSITIONS: dict[tuple[InvitationStatus, InvitationStatus], str] = {
    ("invited", "accepted"): "remote_consult.invitation_accepted",
    ("invited", "declined"): "remote_consult.invitation_declined",
    ("invited", "proposed"): "remote_consult.time_proposed",
    ("proposed", "accepted"): "remote_consult.proposal_accepted",
    ("proposed", "declined"): "remote_consult.invitation_declined",
    ("proposed", "invited"): "remote_consult.asked_again",
}
# An expert still to answer: scheduling waits for every one of them.
UNANSWERED: frozenset[str] = frozenset({"invited", "proposed"})
# Where an accepted expert may write their opinion.
TAKES_OPINIONS: frozenset[str] = frozenset({"scheduled", "in_session", "opinions"})


class WrongCaseStatus(Conflict):
    """The case's status does not allow this; ``status_now`` says what it is."""

    slug, title = "wrong-remote-consultation-status", "The case's status does not allow this"

    def __init__(self, detail: str, *, status_now: str, **extra: Any) -> None:
        super().__init__(
            detail, field="status", code="wrong-status", status_now=status_now, **extra
        )


class WrongInvitationStatus(Conflict):
    """The invitation's status does not allow this; ``status_now`` says what it is."""

    slug, title = "wrong-invitation-status", "The invitation's status does not allow this"

    def __init__(self, detail: str, *, status_now: str, **extra: Any) -> None:
        super().__init__(
            detail, field="status", code="wrong-status", status_now=status_now, **extra
        )


async def move_case(
    connection: Connection,
    case: asyncpg.Record,
    target: CaseStatus,
    context: AuditContext,
    *,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> int:
    """Move ``case`` (a row the caller locked FOR UPDATE) to ``target``; columns that come
    with the move (the time, the decision) the caller sets first."""
    current = case["status"]
    action = CASE_TRANSITIONS.get((current, target))
    if action is None:
        raise WrongCaseStatus(
            f"the case is {current}; it cannot become {target}", status_now=current
        )
    updated = await connection.execute(
        "UPDATE remote_consultations SET status = $3, status_changed_at = now() "
        "WHERE id = $1 AND status = $2",
        case["id"],
        current,
        target,
    )
    if updated != "UPDATE 1":  # the caller did not hold the lock; never move blindly
        raise Conflict("the case changed meanwhile; reload it", code="changed")
    event = await record_event(connection, case["id"], None, target, context, note=note)
    await audit.record(
        connection,
        context,
        action,
        SUBJECT,
        case["id"],
        detail={
            "from": current,
            "to": target,
            **({"note": note} if note else {}),
            **(detail or {}),
        },
    )
    return event


async def move_invitation(
    connection: Connection,
    invitation: asyncpg.Record,
    target: InvitationStatus,
    context: AuditContext,
    *,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> int:
    """Move ``invitation`` (locked by the caller) to ``target``, setting with it what
    ``detail``'s columns say (the times, the reason) in the same UPDATE. Returns the
    timeline line's id."""
    current = invitation["status"]
    action = INVITATION_TRANSITIONS.get((current, target))
    if action is None:
        raise WrongInvitationStatus(
            f"the invitation is {current}; it cannot become {target}", status_now=current
        )
    columns = detail or {}
    updated = await connection.execute(
        """
        UPDATE remote_consultation_invitations
           SET status = $3, answered_at = now(),
               accepted_time = $4, proposed_time = $5, proposal_note = $6, decline_reason = $7
         WHERE id = $1 AND status = $2
        """,
        invitation["id"],
        current,
        target,
        columns.get("accepted_time"),
        columns.get("proposed_time"),
        columns.get("proposal_note", ""),
        columns.get("decline_reason"),
    )
    if updated != "UPDATE 1":
        raise Conflict("the invitation changed meanwhile; reload it", code="changed")
    event = await record_event(
        connection, invitation["consultation_id"], invitation["id"], target, context, note=note
    )
    await audit.record(
        connection,
        context,
        action,
        SUBJECT,
        invitation["consultation_id"],
        detail={
            "invitation_id": str(invitation["id"]),
            "from": current,
            "to": target,
            **{name: str(value) for name, value in columns.items() if value is not None},
        },
    )
    return event


async def record_event(
    connection: Connection,
    consultation_id: Any,
    invitation_id: Any,
    status: str,
    context: AuditContext,
    *,
    note: str = "",
) -> int:
    """A line of the case's timeline; its id."""
    event: int = await connection.fetchval(
        """
        INSERT INTO remote_consultation_events
               (consultation_id, invitation_id, status, actor_id, note)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        consultation_id,
        invitation_id,
        status,
        context.actor_id,
        note[:2000],
    )
    return event
