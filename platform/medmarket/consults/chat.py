"""Chat and files in a consultation: stored first, then relayed through the room.

A message is numbered (``seq``) under the consultation's row lock, committed with its audit
event and a staged relay, and only then published into the room; a participant whose
connection dropped meanwhile fetches the history after the last ``seq`` they saw, so nothing
said is lost. A client may name its message (``client_ref``): posting it again stores it once.

Files (PDF, JPEG, PNG) are judged by their content, and a name that claims another type is
refused; they are stored under ``<data_dir>/consultations/<id>/<attachment id>`` and served
to participants only, as attachments, every read audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from medmarket import audit, files
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.consults.access import participation, role_of
from medmarket.consults.room import RoomAnnouncer
from medmarket.consults.schemas import (
    AttachmentOut,
    AttachmentUpload,
    MessageOut,
    MessagePage,
)
from medmarket.consults.service import require_live
from medmarket.db import Connection, fetch_one
from medmarket.errors import InvalidInput, NotFound
from medmarket.services import Services
from medmarket.signaling import messages as m

MAX_BODY = 4000
_CLIENT_REF = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

MESSAGE_SELECT = """
    SELECT m.id, m.seq, m.author_id, m.author_role, m.body, m.sent_at, m.client_ref,
           m.consultation_id, a.id AS attachment_id, a.original_name, a.content_type,
           a.size_bytes, a.uploaded_by, a.uploaded_at
      FROM consultation_messages m
      LEFT JOIN consultation_attachments a ON a.id = m.attachment_id
"""


def path_of(data_path: Path, consultation_id: uuid.UUID, attachment_id: uuid.UUID) -> Path:
    return data_path / "consultations" / str(consultation_id) / str(attachment_id)


def attachment_out(row: asyncpg.Record) -> AttachmentOut:
    return AttachmentOut(
        id=row["id"],
        name=row["original_name"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        uploaded_by=row["uploaded_by"],
        uploaded_at=row["uploaded_at"],
        download_path=f"/api/consultations/{row['consultation_id']}/attachments/{row['id']}",
    )


def message_out(row: asyncpg.Record) -> MessageOut:
    attachment = None
    if row["attachment_id"] is not None:
        attachment = AttachmentOut(
            id=row["attachment_id"],
            name=row["original_name"],
            content_type=row["content_type"],
            size_bytes=row["size_bytes"],
            uploaded_by=row["uploaded_by"],
            uploaded_at=row["uploaded_at"],
            download_path=(
                f"/api/consultations/{row['consultation_id']}/attachments/{row['attachment_id']}"
            ),
        )
    return MessageOut(
        id=row["id"],
        seq=row["seq"],
        author_id=row["author_id"],
        author_role=row["author_role"],
        body=row["body"],
        sent_at=row["sent_at"],
        client_ref=row["client_ref"],
        attachment=attachment,
    )


def relayed(message: MessageOut) -> m.Chat:
    """The message as the room relays it."""
    attachment = message.attachment
    return m.Chat(
        message_id=str(message.id),
        seq=message.seq,
        body=message.body,
        sent_at=message.sent_at,
        attachment=m.ChatAttachment(
            id=str(attachment.id),
            name=attachment.name,
            content_type=attachment.content_type,
            size_bytes=attachment.size_bytes,
        )
        if attachment
        else None,
        sender=str(message.author_id),
        sender_role=message.author_role,
    )


class ConsultationChat:
    def __init__(self, services: Services, announcer: RoomAnnouncer) -> None:
        self.db = services.db
        self.settings = services.settings
        self.announcer = announcer

    async def history(
        self, principal: Principal, consultation_id: uuid.UUID, after: int, limit: int
    ) -> MessagePage:
        """Messages after ``seq`` ``after``, in order (what a reconnecting page fetches)."""
        await participation(self.db.pool, consultation_id, principal.user_id)
        rows = await self.db.fetch(
            MESSAGE_SELECT + " WHERE m.consultation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3",
            consultation_id,
            after,
            limit + 1,
        )
        page = [message_out(row) for row in rows[:limit]]
        return MessagePage(
            messages=page, next_after=page[-1].seq if len(rows) > limit and page else None
        )

    async def post(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        body: str,
        client_ref: str | None,
        context: AuditContext,
    ) -> MessageOut:
        if not body.strip():
            raise InvalidInput("write something first", field="body", code="empty")
        return await self._store(principal, consultation_id, body, client_ref, None, context)

    async def upload(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        upload: AttachmentUpload,
        context: AuditContext,
    ) -> MessageOut:
        """Store a file and the chat message that shares it."""
        if len(upload.caption) > MAX_BODY:
            raise InvalidInput(f"at most {MAX_BODY} characters", field="caption")
        if upload.client_ref is not None and not _CLIENT_REF.match(upload.client_ref):
            raise InvalidInput("1-64 letters, digits, '-' or '_'", field="client_ref")
        content, media_type = await files.read_accepted(
            upload.file, self.settings.consultation_attachment_max_bytes
        )
        name = files.display_name(upload.file.filename)
        files.require_name_agrees(name, media_type)
        file = _NewFile(media_type, name, content)
        return await self._store(
            principal, consultation_id, upload.caption, upload.client_ref, file, context
        )

    async def _store(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        body: str,
        client_ref: str | None,
        file: _NewFile | None,
        context: AuditContext,
    ) -> MessageOut:
        path: Path | None = None
        try:
            async with self.db.transaction() as connection:
                row = await participation(connection, consultation_id, principal.user_id, lock=True)
                if client_ref is not None:
                    again = await connection.fetchrow(
                        MESSAGE_SELECT + " WHERE m.consultation_id = $1 AND m.author_id = $2 "
                        "AND m.client_ref = $3",
                        consultation_id,
                        principal.user_id,
                        client_ref,
                    )
                    if again is not None:
                        return message_out(again)
                now: dt.datetime = await connection.fetchval("SELECT now()")
                require_live(row, now)
                attachment_id = None
                if file is not None:
                    attachment_id = uuid.uuid4()
                    path = path_of(self.settings.data_path, consultation_id, attachment_id)
                    await files.store(path, file.content)
                    await self._record_file(
                        connection, consultation_id, attachment_id, file, principal, context
                    )
                seq = await connection.fetchval(
                    "UPDATE consultations SET chat_seq = chat_seq + 1 WHERE id = $1 "
                    "RETURNING chat_seq",
                    consultation_id,
                )
                message_id = await connection.fetchval(
                    """
                    INSERT INTO consultation_messages (consultation_id, seq, author_id,
                           author_role, body, attachment_id, client_ref)
                    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
                    """,
                    consultation_id,
                    seq,
                    principal.user_id,
                    role_of(row),
                    body,
                    attachment_id,
                    client_ref,
                )
                await audit.record(
                    connection,
                    context,
                    "consultation.message_posted",
                    "consultation",
                    consultation_id,
                    consultation_id=consultation_id,
                    detail={
                        "message_id": str(message_id),
                        "seq": seq,
                        "attachment_id": str(attachment_id) if attachment_id else None,
                    },
                )
                stored = message_out(
                    await fetch_one(connection, MESSAGE_SELECT + " WHERE m.id = $1", message_id)
                )
                staged = await self.announcer.stage(
                    connection, consultation_id, relayed(stored), f"chat:{message_id}"
                )
        except BaseException:
            if path is not None:
                await files.remove(path)
            raise
        await self.announcer.send(staged)
        return stored

    async def _record_file(
        self,
        connection: Connection,
        consultation_id: uuid.UUID,
        attachment_id: uuid.UUID,
        file: _NewFile,
        principal: Principal,
        context: AuditContext,
    ) -> None:
        await connection.execute(
            """
            INSERT INTO consultation_attachments (id, consultation_id, uploaded_by, content_type,
                                                  size_bytes, sha256, original_name)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            attachment_id,
            consultation_id,
            principal.user_id,
            file.media_type,
            len(file.content),
            hashlib.sha256(file.content).digest(),
            file.name,
        )
        await audit.record(
            connection,
            context,
            "consultation.attachment_uploaded",
            "consultation",
            consultation_id,
            consultation_id=consultation_id,
            detail={
                "attachment_id": str(attachment_id),
                "content_type": file.media_type,
                "size_bytes": len(file.content),
                "sha256": hashlib.sha256(file.content).hexdigest(),
            },
        )

    async def attachment_file(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        attachment_id: uuid.UUID,
        context: AuditContext,
    ) -> tuple[bytes, AttachmentOut]:
        """A file's bytes, for a participant; every read is audited."""
        await participation(self.db.pool, consultation_id, principal.user_id)
        row = await self.db.fetchrow(
            "SELECT * FROM consultation_attachments WHERE id = $1 AND consultation_id = $2",
            attachment_id,
            consultation_id,
        )
        if row is None:
            raise NotFound("no such attachment")
        path = path_of(self.settings.data_path, consultation_id, attachment_id)
        content = await files.load_kept(
            path, missing="the file is missing; ask for it to be shared again"
        )
        async with self.db.transaction() as connection:
            await audit.record(
                connection,
                context,
                "consultation.attachment_read",
                "consultation",
                consultation_id,
                consultation_id=consultation_id,
                detail={"attachment_id": str(attachment_id)},
            )
        return content, attachment_out(row)


@dataclass(frozen=True)
class _NewFile:
    media_type: str
    name: str
    content: bytes
