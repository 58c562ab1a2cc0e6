"""Writing and reading audit events. ``record`` takes the connection of the transaction that
makes the change, so the event commits (or rolls back) with it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import asyncpg
import msgspec

from medmarket.db import Connection

Outcome = Literal["success", "denied", "failed"]


class AuditContext(msgspec.Struct, frozen=True, kw_only=True):
    """Who is acting and from where; built once per request."""

    actor_id: uuid.UUID | None = None
    actor_role: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None

    def as_actor(self, actor_id: uuid.UUID, actor_role: str) -> AuditContext:
        return msgspec.structs.replace(self, actor_id=actor_id, actor_role=actor_role)


SYSTEM = AuditContext(actor_role="system")


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    occurred_at: dt.datetime
    actor_id: uuid.UUID | None
    actor_role: str | None
    action: str
    subject_type: str
    subject_id: str | None
    consultation_id: uuid.UUID | None
    outcome: Outcome
    ip: str | None
    request_id: str | None
    detail: dict[str, Any]


async def record(
    connection: Connection,
    context: AuditContext,
    action: str,
    subject_type: str,
    subject_id: object | None = None,
    *,
    outcome: Outcome = "success",
    detail: dict[str, Any] | None = None,
    consultation_id: uuid.UUID | None = None,
) -> None:
    await connection.execute(
        """
        INSERT INTO audit_events (actor_id, actor_role, action, subject_type, subject_id,
                                  consultation_id, outcome, ip, user_agent, request_id, detail)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::inet, $9, $10, $11)
        """,
        context.actor_id,
        context.actor_role,
        action,
        subject_type,
        None if subject_id is None else str(subject_id),
        consultation_id,
        outcome,
        context.ip,
        context.user_agent,
        context.request_id,
        detail or {},
    )


async def events(
    connection: Connection | asyncpg.Pool,
    *,
    subject_type: str | None = None,
    subject_id: str | None = None,
    actor_id: uuid.UUID | None = None,
    consultation_id: uuid.UUID | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest first, keyset-paginated by ``before_id``; every filter is optional."""
    rows = await connection.fetch(
        """
        SELECT id, occurred_at, actor_id, actor_role, action, subject_type, subject_id,
               consultation_id, outcome, host(ip) AS ip, request_id, detail
          FROM audit_events
         WHERE ($1::text IS NULL OR subject_type = $1)
           AND ($2::text IS NULL OR subject_id = $2)
           AND ($3::uuid IS NULL OR actor_id = $3)
           AND ($4::uuid IS NULL OR consultation_id = $4)
           AND ($5::bigint IS NULL OR id < $5)
         ORDER BY id DESC
         LIMIT $6
        """,
        subject_type,
        subject_id,
        actor_id,
        consultation_id,
        before_id,
        limit,
    )
    return [AuditEvent(**dict(row)) for row in rows]
