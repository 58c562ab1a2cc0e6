"""The doctors' notes of a consultation: complaint, findings, diagnosis, advice.

Every save is a new version (the table is append-only for the application), so the record
shows who wrote what when. A save names the version it started from; if someone saved in
between, it is refused rather than silently overwriting their words. The doctor and invited
colleagues write, from the moment the visit is in progress until a day after it ended;
every participant reads.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.consults.access import participation
from medmarket.consults.schemas import NotesOut, NotesRequest, NoteVersion
from medmarket.db import Connection, Database
from medmarket.errors import Conflict, Forbidden

# Notes may be completed this long after the visit ended (then they are the record).
WRITABLE_AFTER_END = dt.timedelta(hours=24)
WRITABLE_ENDINGS = ("completed", "no_show", "terminated")

_VERSIONS = """
    SELECT n.version, n.author_id, coalesce(d.full_name, u.display_name) AS author_name,
           n.written_at, n.complaint, n.findings, n.diagnosis, n.advice
      FROM consultation_notes n
      JOIN users u ON u.id = n.author_id
      LEFT JOIN doctors d ON d.user_id = n.author_id
     WHERE n.consultation_id = $1
     ORDER BY n.version
"""


async def note_versions(
    connection: Connection | asyncpg.Pool, consultation_id: uuid.UUID
) -> list[NoteVersion]:
    return [NoteVersion(**dict(r)) for r in await connection.fetch(_VERSIONS, consultation_id)]


class StaleNotes(Conflict):
    slug, title = "stale-notes", "The notes changed since you loaded them"


class Notes:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def read(self, principal: Principal, consultation_id: uuid.UUID) -> NotesOut:
        await participation(self.db.pool, consultation_id, principal.user_id)
        versions = await note_versions(self.db.pool, consultation_id)
        return NotesOut(current=versions[-1] if versions else None, versions=versions)

    async def write(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        request: NotesRequest,
        context: AuditContext,
    ) -> NoteVersion:
        async with self.db.transaction() as connection:
            row = await participation(connection, consultation_id, principal.user_id, lock=True)
            if row["my_role"] not in ("doctor", "guest"):
                raise Forbidden("only the doctors write the notes")
            now: dt.datetime = await connection.fetchval("SELECT now()")
            writable = row["status"] == "in_progress" or (
                row["status"] in WRITABLE_ENDINGS and now < row["ended_at"] + WRITABLE_AFTER_END
            )
            if not writable:
                raise Conflict(
                    "notes are written from the start of the visit until a day after it ended",
                    field="status",
                    code="notes-closed",
                    status_now=row["status"],
                )
            current: int = await connection.fetchval(
                "SELECT coalesce(max(version), 0) FROM consultation_notes "
                "WHERE consultation_id = $1",
                consultation_id,
            )
            if request.base_version != current:
                raise StaleNotes(
                    f"version {current} was saved since; reload, then apply your change",
                    field="base_version",
                    code="stale",
                    current_version=current,
                )
            version = current + 1
            await connection.execute(
                """
                INSERT INTO consultation_notes (consultation_id, version, author_id, complaint,
                                                findings, diagnosis, advice)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                consultation_id,
                version,
                principal.user_id,
                request.complaint,
                request.findings,
                request.diagnosis,
                request.advice,
            )
            await audit.record(
                connection,
                context,
                "consultation.notes_written",
                "consultation",
                consultation_id,
                consultation_id=consultation_id,
                detail={"version": version},
            )
            versions = await note_versions(connection, consultation_id)
        return versions[-1]
