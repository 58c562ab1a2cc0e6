"""The visit's files a referral carries, as the receiving hospital reads them: the admin of
the hospital the patient agreed to send them to downloads each one listed in the referral,
every read audited; no other file of the visit, and nobody else."""

from __future__ import annotations

import uuid
from pathlib import Path

from medmarket import audit, files
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.consults.chat import path_of
from medmarket.db import Database
from medmarket.errors import NotFound
from medmarket.referrals import queries
from medmarket.referrals.schemas import AttachmentRef
from medmarket.referrals.states import SUBJECT

NO_FILE = "no such file in this referral"


class ReferralFiles:
    def __init__(self, db: Database, data_path: Path) -> None:
        self.db = db
        self.data_path = data_path

    async def read(
        self,
        principal: Principal,
        referral_id: uuid.UUID,
        attachment_id: uuid.UUID,
        context: AuditContext,
    ) -> tuple[bytes, AttachmentRef]:
        async with self.db.connection() as connection:
            await queries.visible(connection, principal, referral_id)
            row = await connection.fetchrow(
                """
                SELECT a.id, a.consultation_id, a.original_name, a.content_type, a.size_bytes
                  FROM referral_attachments ra
                  JOIN consultation_attachments a ON a.id = ra.attachment_id
                 WHERE ra.referral_id = $1 AND ra.attachment_id = $2
                """,
                referral_id,
                attachment_id,
            )
        if row is None:
            raise NotFound(NO_FILE)
        path = path_of(self.data_path, row["consultation_id"], attachment_id)
        content = await files.load_kept(
            path, missing="the file is missing; ask the referring doctor for it"
        )
        async with self.db.transaction() as connection:
            await audit.record(
                connection,
                context,
                "referral.file_read",
                SUBJECT,
                referral_id,
                detail={"attachment_id": str(attachment_id)},
            )
        return content, AttachmentRef(
            id=row["id"],
            name=row["original_name"],
            content_type=row["content_type"],
            size_bytes=row["size_bytes"],
        )
