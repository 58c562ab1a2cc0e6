"""The reading centre's desk: its readers see its open requests, oldest due first; a reader
claims one (when two claim at once the database's unique index of held claims decides, and
the other is told 409), may release it back to the queue, and writes the report, which
signing makes final. A critical finding tells the requester at once (high urgency); every
report is sent back to them."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import asyncpg

from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.errors import Conflict, Forbidden, InvalidInput, NotFound
from medmarket.notifications.service import notify
from medmarket.readings import queries
from medmarket.readings.schemas import ReadingOut, ReportIn
from medmarket.readings.states import OPEN, WrongReadingStatus, move
from medmarket.signatures import canonical_form

NO_CENTRE = "no such reading centre"


async def _reader_id(
    connection: Connection, principal: Principal, centre_id: uuid.UUID
) -> uuid.UUID:
    """The principal's doctor id when they read for the centre; otherwise 403."""
    doctor_id: uuid.UUID | None = await connection.fetchval(
        "SELECT d.id FROM reading_centre_readers rr JOIN doctors d ON d.id = rr.doctor_id "
        "WHERE rr.centre_id = $1 AND d.user_id = $2 AND d.status = 'approved'",
        centre_id,
        principal.user_id,
    )
    if doctor_id is None:
        raise Forbidden("only the centre's readers read its studies")
    return doctor_id


def signed_digest(
    request_id: uuid.UUID, reader_id: uuid.UUID, signed_at: dt.datetime, report: ReportIn
) -> bytes:
    """SHA-256 of the report's canonical form (RFC 8785) with who signed it and when."""
    document = {
        "reading_request": str(request_id),
        "reader": str(reader_id),
        "signed_at": signed_at.astimezone(dt.UTC).isoformat(),
        "findings": report.findings,
        "impression": report.impression,
        "critical": report.critical,
        "critical_note": report.critical_note,
    }
    return hashlib.sha256(canonical_form(document)).digest()


class Desk:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def queue(self, principal: Principal, centre_id: uuid.UUID) -> list[ReadingOut]:
        async with self.db.connection() as connection:
            if not await queries.is_reader(connection, principal, centre_id):
                raise NotFound(NO_CENTRE)
            rows = await connection.fetch(
                queries.SELECT + " WHERE r.centre_id = $1 AND r.status = ANY($2::text[])"
                " ORDER BY r.due_at, r.received_at, r.id LIMIT 200",
                centre_id,
                sorted(OPEN),
            )
            return [queries.reading_out(row) for row in rows]

    async def claim(
        self, principal: Principal, request_id: uuid.UUID, context: AuditContext
    ) -> ReadingOut:
        async with self.db.transaction() as connection:
            row = await queries.visible(connection, principal, request_id)
            reader_id = await _reader_id(connection, principal, row["centre_id"])
            if row["status"] != "received":
                raise WrongReadingStatus(
                    f"the reading request is {row['status']}", status_now=row["status"]
                )
            # The held-claim index decides a race: the second insert waits for the first
            # transaction and then fails, whatever either of them read before.
            try:
                async with connection.transaction():
                    await connection.execute(
                        "INSERT INTO reading_claims (request_id, reader_id) VALUES ($1, $2)",
                        request_id,
                        reader_id,
                    )
            except asyncpg.UniqueViolationError:
                raise Conflict(
                    "another reader claimed it first", field="status", code="claimed"
                ) from None
            locked = await queries.visible(connection, principal, request_id, lock=True)
            await move(connection, locked, "claimed", context, detail={"reader_id": str(reader_id)})
            await notify(
                connection,
                locked["requester_user_id"],
                "reading.claimed",
                {"reading_id": request_id, "centre": locked["centre_name"]},
                dedupe_key=f"{request_id}:{reader_id}:{locked['status_changed_at'].isoformat()}",
                urgency="low",
            )
            return await queries.reload(connection, request_id)

    async def release(
        self, principal: Principal, request_id: uuid.UUID, context: AuditContext
    ) -> ReadingOut:
        """The claimant gives the request back to the queue, unread."""
        async with self.db.transaction() as connection:
            row = await self._claimed_by_me(connection, principal, request_id)
            await connection.execute(
                "UPDATE reading_claims SET released_at = now() "
                "WHERE request_id = $1 AND released_at IS NULL",
                request_id,
            )
            await move(connection, row, "received", context)
            return await queries.reload(connection, request_id)

    async def report(
        self, principal: Principal, request_id: uuid.UUID, data: ReportIn, context: AuditContext
    ) -> ReadingOut:
        """The claimant's report, signed now: the request is reported and goes back to the
        requester; a critical finding is told to them at once."""
        if data.critical and data.critical_note is None:
            raise InvalidInput("say what is critical", field="critical_note", code="required")
        async with self.db.transaction() as connection:
            row = await self._claimed_by_me(connection, principal, request_id)
            reader_id = row["claimed_by_id"]
            signed_at: dt.datetime = await connection.fetchval("SELECT now()")
            await connection.execute(
                """
                INSERT INTO reading_reports (request_id, reader_id, findings, impression,
                    critical, critical_note, signed_at, content_sha256)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                request_id,
                reader_id,
                data.findings,
                data.impression,
                data.critical,
                data.critical_note if data.critical else None,
                signed_at,
                signed_digest(request_id, reader_id, signed_at, data),
            )
            await move(connection, row, "reported", context, detail={"critical": data.critical})
            params = {"reading_id": request_id, "centre": row["centre_name"]}
            if data.critical:
                await notify(
                    connection,
                    row["requester_user_id"],
                    "reading.critical",
                    {**params, "note": data.critical_note or ""},
                    dedupe_key=str(request_id),
                    urgency="high",
                )
            await notify(
                connection,
                row["requester_user_id"],
                "reading.reported",
                params,
                dedupe_key=str(request_id),
            )
            return await queries.reload(connection, request_id)

    async def _claimed_by_me(
        self, connection: Connection, principal: Principal, request_id: uuid.UUID
    ) -> asyncpg.Record:
        row = await queries.visible(connection, principal, request_id, lock=True)
        if row["status"] != "claimed":
            raise WrongReadingStatus(
                f"the reading request is {row['status']}", status_now=row["status"]
            )
        if row["claimed_by_user_id"] != principal.user_id:
            raise Forbidden("another reader holds the claim")
        return row
