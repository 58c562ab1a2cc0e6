"""The visit's files a case carries, as its doctors read them: the requester and the experts
who still take part (not one who declined) download each file listed in the case, every read
audited; no other file of the visit, and nobody else."""

from __future__ import annotations

import uuid
from pathlib import Path

from medmarket import audit, files
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.consults.chat import path_of
from medmarket.db import Database
from medmarket.errors import NotFound
from medmarket.remote_consults import queries
from medmarket.remote_consults.schemas import AttachmentRef
from medmarket.remote_consults.states import SUBJECT

NO_FILE = "no such file in this case"


class CaseFiles:
    def __init__(self, db: Database, data_path: Path) -> None:
        self.db = db
        self.data_path = data_path

    async def read(
        self,
        principal: Principal,
        case_id: uuid.UUID,
        attachment_id: uuid.UUID,
        context: AuditContext,
    ) -> tuple[bytes, AttachmentRef]:
        async with self.db.connection() as connection:
            case = await queries.visible(connection, principal, case_id)
            if not queries.sees_clinical(principal, case):
                raise NotFound(NO_FILE)
            row = await connection.fetchrow(
                """
                SELECT a.id, a.consultation_id, a.original_name, a.content_type, a.size_bytes
                  FROM remote_consultation_attachments ra
                  JOIN consultation_attachments a ON a.id = ra.attachment_id
                 WHERE ra.consultation_id = $1 AND ra.attachment_id = $2
                """,
                case_id,
                attachment_id,
            )
        if row is None:
            raise NotFound(NO_FILE)
        path = path_of(self.data_path, row["consultation_id"], attachment_id)
        content = await files.load_kept(
            path, missing="the file is missing; ask the requesting doctor for it"
        )
        async with self.db.transaction() as connection:
            await audit.record(
                connection,
                context,
                "remote_consult.file_read",
                SUBJECT,
                case_id,
                detail={"attachment_id": str(attachment_id)},
            )
        return content, AttachmentRef(
            id=row["id"],
            name=row["original_name"],
            content_type=row["content_type"],
            size_bytes=row["size_bytes"],
        )
