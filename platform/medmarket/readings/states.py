"""A reading request's state machine and the one function that moves a request through it.

The trigger of migration 0092 refuses any other move, so this table and that trigger must
agree (a test compares them). Each move records its audit event and a line of the request's
timeline (``reading_events``) in the caller's transaction.

    received ──► claimed ──► reported (signed)
       │  ▲         │
       │  └─release─┤
       ▼            ▼
    cancelled   cancelled      (by the requester, before it is reported)
"""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.errors import Conflict

ReadingStatus = Literal["received", "claimed", "reported", "cancelled"]
Kind = Literal["imaging", "ecg", "pathology"]
Urgency = Literal["routine", "urgent", "emergency"]
SUBJECT = "reading_request"

TRANSITIONS: dict[tuple[ReadingStatus, ReadingStatus], str] = {
    ("received", "claimed"): "reading.claimed",
    ("received", "cancelled"): "reading.cancelled",
    ("claimed", "received"): "reading.released",
    ("claimed", "reported"): "reading.reported",
    ("claimed", "cancelled"): "reading.cancelled",
}
# In the centre's queue: waiting for a reader, or being read.
OPEN: frozenset[str] = frozenset({"received", "claimed"})


class WrongReadingStatus(Conflict):
    """The request's status does not allow this; ``status_now`` says what it is."""

    slug, title = "wrong-reading-status", "The reading request's status does not allow this"

    def __init__(self, detail: str, *, status_now: str, **extra: Any) -> None:
        super().__init__(
            detail, field="status", code="wrong-status", status_now=status_now, **extra
        )


async def move(
    connection: Connection,
    request: asyncpg.Record,
    target: ReadingStatus,
    context: AuditContext,
    *,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Move ``request`` (a row the caller locked with FOR UPDATE) to ``target``, with its
    audit event and timeline line. Raises WrongReadingStatus when the move is not allowed."""
    current = request["status"]
    action = TRANSITIONS.get((current, target))
    if action is None:
        raise WrongReadingStatus(
            f"the reading request is {current}; it cannot become {target}", status_now=current
        )
    updated = await connection.execute(
        """
        UPDATE reading_requests
           SET status = $3, status_changed_at = now(),
               reported_at = CASE WHEN $3 = 'reported' THEN now() ELSE reported_at END
         WHERE id = $1 AND status = $2
        """,
        request["id"],
        current,
        target,
    )
    if updated != "UPDATE 1":  # the caller did not hold the lock; never move blindly
        raise Conflict("the reading request changed meanwhile; reload it", code="changed")
    await record_event(connection, request["id"], target, context, note=note)
    await audit.record(
        connection,
        context,
        action,
        SUBJECT,
        request["id"],
        detail={
            "from": current,
            "to": target,
            **({"note": note} if note else {}),
            **(detail or {}),
        },
    )


async def record_event(
    connection: Connection,
    request_id: Any,
    status: str,
    context: AuditContext,
    *,
    note: str = "",
) -> None:
    """A line of the request's timeline."""
    await connection.execute(
        "INSERT INTO reading_events (request_id, status, actor_id, note) VALUES ($1, $2, $3, $4)",
        request_id,
        status,
        context.actor_id,
        note[:1000],
    )
