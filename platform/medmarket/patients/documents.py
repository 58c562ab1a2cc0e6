"""Documents of earlier diagnoses: uploaded by the account that owns the patient (under its
consent), cited when booking a follow-up visit, and readable by that account and by the
doctors of visits that cite them. Stored as ``medmarket.files`` under
``<data_dir>/patient-documents/<patient id>/<document id>``."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import asyncpg
import msgspec
from litestar.datastructures import UploadFile

from medmarket import audit, files
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database, fetch_one
from medmarket.errors import InvalidInput, NotFound
from medmarket.patients.service import Patients

Kind = Literal["diagnosis", "report", "imaging", "prescription", "other"]
MAX_BYTES = 20 * 1024 * 1024
MAX_TEXT = 200  # the institution's name and the title (the table's checks)


@dataclass
class PatientDocumentUpload:
    """A multipart form: the file and what it is. Its type is read from its content."""

    file: UploadFile
    kind: Kind
    institution: str
    issued_on: str  # YYYY-MM-DD
    title: str


class PatientDocumentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: Kind
    institution: str
    issued_on: dt.date
    title: str
    content_type: str
    size_bytes: int
    original_name: str
    created_at: dt.datetime


_COLUMNS = (
    "id, patient_id, kind, institution, issued_on, title, content_type, size_bytes, "
    "original_name, created_at"
)


def path_of(data_path: Path, patient_id: uuid.UUID, document_id: uuid.UUID) -> Path:
    return data_path / "patient-documents" / str(patient_id) / str(document_id)


def _issued_on(raw: str) -> dt.date:
    try:
        issued = dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("give the date as YYYY-MM-DD", field="issued_on") from None
    if issued > dt.datetime.now(dt.UTC).date():
        raise InvalidInput("the document's date is in the future", field="issued_on")
    return issued


class PatientDocuments:
    def __init__(self, db: Database, data_path: Path) -> None:
        self.db = db
        self.data_path = data_path

    async def upload(
        self,
        principal: Principal,
        patient_id: uuid.UUID,
        form: PatientDocumentUpload,
        context: AuditContext,
    ) -> PatientDocumentOut:
        institution, title = " ".join(form.institution.split()), " ".join(form.title.split())
        if len(institution) < 2:
            raise InvalidInput("name the institution that issued it", field="institution")
        if not title:
            raise InvalidInput("give the document a title", field="title")
        for field, value in (("institution", institution), ("title", title)):
            if len(value) > MAX_TEXT:
                raise InvalidInput(f"at most {MAX_TEXT} characters", field=field, code="too-long")
        issued_on = _issued_on(form.issued_on)
        content, media_type = await files.read_accepted(form.file, MAX_BYTES)
        files.require_name_agrees(files.display_name(form.file.filename), media_type)
        patients, document_id = Patients(self.db), uuid.uuid4()
        path = path_of(self.data_path, patient_id, document_id)
        try:
            async with self.db.transaction() as connection:
                await patients.owned(connection, principal.user_id, patient_id)
                consent_id = await patients.require_consent(connection, principal.user_id)
                await files.store(path, content)
                row = await fetch_one(
                    connection,
                    f"""
                    INSERT INTO patient_documents (id, patient_id, kind, institution, issued_on,
                           title, content_type, size_bytes, sha256, original_name, consent_id,
                           uploaded_by)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                    RETURNING {_COLUMNS}
                    """,  # noqa: S608 - a constant column list
                    document_id,
                    patient_id,
                    form.kind,
                    institution,
                    issued_on,
                    title,
                    media_type,
                    len(content),
                    hashlib.sha256(content).hexdigest(),
                    files.display_name(form.file.filename),
                    consent_id,
                    principal.user_id,
                )
                await audit.record(
                    connection,
                    context,
                    "patient.document_added",
                    "patient",
                    patient_id,
                    detail={"document_id": str(document_id), "kind": form.kind},
                )
        except BaseException:
            await files.remove(path)
            raise
        return PatientDocumentOut(**dict(row))

    async def list(self, principal: Principal, patient_id: uuid.UUID) -> list[PatientDocumentOut]:
        await Patients(self.db).owned(self.db.pool, principal.user_id, patient_id)
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM patient_documents "  # noqa: S608 - constant columns
            "WHERE patient_id = $1 AND removed_at IS NULL ORDER BY created_at DESC",
            patient_id,
        )
        return [PatientDocumentOut(**dict(row)) for row in rows]

    async def readable(
        self,
        connection: Connection | asyncpg.Pool,
        principal: Principal,
        document_id: uuid.UUID,
    ) -> asyncpg.Record:
        """The document, if the caller owns its patient or is the doctor of a visit that
        cites it; otherwise the same NotFound as for a document that does not exist."""
        row = await connection.fetchrow(
            f"""
            SELECT {_COLUMNS} FROM patient_documents d
             WHERE d.id = $1 AND d.removed_at IS NULL
               AND (EXISTS (SELECT 1 FROM patients p
                             WHERE p.id = d.patient_id AND p.account_id = $2)
                    OR EXISTS (SELECT 1 FROM bookings b JOIN doctors doc ON doc.id = b.doctor_id
                                WHERE b.prior_document_id = d.id AND doc.user_id = $2))
            """,  # noqa: S608 - a constant column list
            document_id,
            principal.user_id,
        )
        if row is None:
            raise NotFound("no such document")
        return row

    async def content(
        self, principal: Principal, document_id: uuid.UUID, context: AuditContext
    ) -> tuple[PatientDocumentOut, bytes]:
        async with self.db.transaction() as connection:
            row = await self.readable(connection, principal, document_id)
            await audit.record(
                connection,
                context,
                "patient.document_read",
                "patient",
                row["patient_id"],
                detail={"document_id": str(document_id)},
            )
        content = await files.load(path_of(self.data_path, row["patient_id"], document_id))
        return PatientDocumentOut(**dict(row)), content

    async def remove(
        self, principal: Principal, document_id: uuid.UUID, context: AuditContext
    ) -> None:
        """Hidden from lists and unreadable; the file stays while a booking cites it, as
        part of that visit's record."""
        async with self.db.transaction() as connection:
            removed = await connection.fetchrow(
                """
                UPDATE patient_documents d SET removed_at = now()
                  FROM patients p
                 WHERE d.id = $1 AND p.id = d.patient_id AND p.account_id = $2
                   AND d.removed_at IS NULL
                RETURNING d.patient_id
                """,
                document_id,
                principal.user_id,
            )
            if removed is None:
                raise NotFound("no such document")
            await audit.record(
                connection,
                context,
                "patient.document_removed",
                "patient",
                removed["patient_id"],
                detail={"document_id": str(document_id)},
            )
