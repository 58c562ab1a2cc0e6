"""The doctor's own path: save an application, upload documents, submit it (the hospital is
asked at once), revise it after a rejection; and the reads of applications, scoped to who
may see them (``access``)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import re
import uuid
import zoneinfo
from pathlib import Path

import asyncpg

from medmarket import audit, files
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, fetch_one
from medmarket.doctors import documents, verification, views
from medmarket.doctors.access import own_doctor, visible_doctor
from medmarket.doctors.schemas import (
    ApplicationIn,
    CheckRunOut,
    DoctorOut,
    DoctorPage,
    DoctorStatus,
    DoctorSummary,
    DocumentOut,
    DocumentUpload,
)
from medmarket.doctors.states import WrongStatus, change_status, record_creation
from medmarket.errors import Conflict, FieldError, InvalidInput, NotFound
from medmarket.services import Services

log = logging.getLogger("medmarket.doctors")

REQUIRED_DOCUMENTS = ("licence", "identity")
EDITABLE: frozenset[str] = frozenset({"draft"})
UPLOADABLE: frozenset[str] = frozenset({"draft", "needs_review"})
_LICENCE = re.compile(r"^[0-9A-Z][0-9A-Z-]{3,38}[0-9A-Z]$")


def _invalid(errors: list[FieldError]) -> InvalidInput:
    return InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


def _clean_application(data: ApplicationIn) -> tuple[tuple[object, ...], list[FieldError]]:
    """The application's values in the doctors table's column order, and what is wrong."""
    errors: list[FieldError] = []
    full_name = " ".join(data.full_name.split())
    if not full_name:
        errors.append(FieldError(field="full_name", message="enter your real name"))
    licence = data.licence_number.strip().upper()
    if not _LICENCE.match(licence):
        errors.append(
            FieldError(
                field="licence_number",
                message="enter the licence number as printed: 5 to 40 letters, digits or '-'",
            )
        )
    specialties = list(dict.fromkeys(s.strip() for s in data.specialties if s.strip()))
    if not specialties:
        errors.append(FieldError(field="specialties", message="name at least one specialty"))
    try:
        zoneinfo.ZoneInfo(data.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors.append(
            FieldError(field="time_zone", message="use an IANA zone such as Asia/Shanghai")
        )
    values = (
        data.hospital_id,
        full_name,
        licence,
        data.title,
        (data.department or "").strip() or None,
        specialties,
        list(dict.fromkeys(data.languages)),
        data.bio.strip(),
        data.time_zone,
    )
    return values, errors


def _encode_cursor(updated_at: dt.datetime, doctor_id: uuid.UUID) -> str:
    raw = f"{updated_at.isoformat()}|{doctor_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, doctor_id = raw.partition("|")
        updated_at = dt.datetime.fromisoformat(moment)
        if updated_at.tzinfo is None:
            raise ValueError("a cursor's time carries its offset")
        return updated_at.astimezone(dt.UTC), uuid.UUID(doctor_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "cursor: use the next_cursor of the previous page", field="cursor"
        ) from None


class DoctorService:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.db = services.db
        self.settings = services.settings

    # -- the application -------------------------------------------------------------------
    async def save_application(
        self, principal: Principal, data: ApplicationIn, context: AuditContext
    ) -> DoctorOut:
        """Create the doctor's application, or change it while it is a draft."""
        values, errors = _clean_application(data)
        hospital_active = await self.db.fetchval(
            "SELECT status = 'active' FROM hospitals WHERE id = $1", data.hospital_id
        )
        if not hospital_active:
            errors.append(
                FieldError(field="hospital_id", message="choose an active partner hospital")
            )
        if errors:
            raise _invalid(errors)
        try:
            async with self.db.transaction() as connection:
                existing = await connection.fetchrow(
                    "SELECT * FROM doctors WHERE user_id = $1 FOR UPDATE", principal.user_id
                )
                if existing is None:
                    doctor_id = await connection.fetchval(
                        """
                        INSERT INTO doctors (user_id, hospital_id, full_name, licence_number,
                                             title, department, specialties, languages, bio,
                                             time_zone)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                        RETURNING id
                        """,
                        principal.user_id,
                        *values,
                    )
                    await record_creation(connection, doctor_id, context)
                else:
                    if existing["status"] not in EDITABLE:
                        raise WrongStatus(
                            f"the application is {existing['status']}; only a draft can change",
                            status_now=existing["status"],
                        )
                    await connection.execute(
                        """
                        UPDATE doctors
                           SET hospital_id = $2, full_name = $3, licence_number = $4, title = $5,
                               department = $6, specialties = $7, languages = $8, bio = $9,
                               time_zone = $10, updated_at = now()
                         WHERE id = $1
                        """,
                        existing["id"],
                        *values,
                    )
                    await audit.record(
                        connection,
                        context,
                        "doctor.application_changed",
                        "doctor",
                        existing["id"],
                    )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "doctors_one_live_licence":
                raise Conflict(
                    "this licence number is already used by another application",
                    field="licence_number",
                    code="licence-taken",
                ) from None
            raise Conflict("you applied already; reload your application") from None
        return await self.mine(principal)

    async def mine(self, principal: Principal) -> DoctorOut:
        doctor = await own_doctor(self.db.pool, principal)
        return await views.doctor_out(self.db.pool, doctor, principal)

    async def submit(self, principal: Principal, context: AuditContext) -> DoctorOut:
        """draft → submitted → verifying, then the hospital is asked and the application
        ends approved (every check passed) or needs_review; either way the answer says."""
        run_id = uuid.uuid4()
        async with self.db.transaction() as connection:
            doctor = await own_doctor(connection, principal, lock=True)
            if doctor["status"] != "draft":
                raise WrongStatus(
                    f"the application is {doctor['status']}; only a draft can be submitted",
                    status_now=doctor["status"],
                )
            await self._require_complete(connection, doctor)
            await change_status(
                connection,
                doctor,
                "submitted",
                context,
                reason_code="application_submitted",
            )
            submitted = await fetch_one(
                connection, "SELECT * FROM doctors WHERE id = $1", doctor["id"]
            )
            await change_status(
                connection,
                submitted,
                "verifying",
                verification.system_context(context),
                reason_code="verification_started",
                verification_run=run_id,
            )
        await verification.settle(self.services, doctor["id"], run_id, "application", context)
        return await self.mine(principal)

    async def _require_complete(self, connection: Connection, doctor: asyncpg.Record) -> None:
        errors: list[FieldError] = []
        kinds = {
            row["kind"]
            for row in await connection.fetch(
                "SELECT DISTINCT kind FROM doctor_documents WHERE doctor_id = $1", doctor["id"]
            )
        }
        missing = [kind for kind in REQUIRED_DOCUMENTS if kind not in kinds]
        if missing:
            errors.append(
                FieldError(
                    field="documents",
                    message="upload " + " and ".join(missing) + " before submitting",
                    code="missing-documents",
                )
            )
        active = await connection.fetchval(
            "SELECT status = 'active' FROM hospitals WHERE id = $1", doctor["hospital_id"]
        )
        if not active:
            errors.append(
                FieldError(field="hospital_id", message="the hospital is not taking doctors now")
            )
        if errors:
            raise _invalid(errors)

    async def revise(self, principal: Principal, context: AuditContext) -> DoctorOut:
        """rejected → draft: the doctor corrects the application and submits again."""
        async with self.db.transaction() as connection:
            doctor = await own_doctor(connection, principal, lock=True)
            await change_status(
                connection, doctor, "draft", context, reason_code="application_reopened"
            )
        return await self.mine(principal)

    # -- documents -------------------------------------------------------------------------
    async def add_document(
        self, principal: Principal, upload: DocumentUpload, context: AuditContext
    ) -> DocumentOut:
        content, media_type = await files.read_accepted(
            upload.file, self.settings.document_max_bytes
        )
        files.require_name_agrees(files.display_name(upload.file.filename), media_type)
        document_id = uuid.uuid4()
        path: Path | None = None
        try:
            async with self.db.transaction() as connection:
                doctor = await own_doctor(connection, principal, lock=True)
                if doctor["status"] not in UPLOADABLE:
                    raise WrongStatus(
                        f"the application is {doctor['status']}; documents cannot be added now",
                        status_now=doctor["status"],
                    )
                count = await connection.fetchval(
                    "SELECT count(*) FROM doctor_documents WHERE doctor_id = $1", doctor["id"]
                )
                if count >= documents.MAX_DOCUMENTS_PER_DOCTOR:
                    raise Conflict(
                        f"at most {documents.MAX_DOCUMENTS_PER_DOCTOR} documents; delete one first",
                        field="file",
                        code="too-many-documents",
                    )
                path = documents.path_of(self.settings.data_path, doctor["id"], document_id)
                await files.store(path, content)
                row = await fetch_one(
                    connection,
                    """
                    INSERT INTO doctor_documents (id, doctor_id, kind, content_type, size_bytes,
                                                  sha256, original_name, uploaded_by)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    RETURNING *
                    """,
                    document_id,
                    doctor["id"],
                    upload.kind,
                    media_type,
                    len(content),
                    hashlib.sha256(content).digest(),
                    files.display_name(upload.file.filename),
                    principal.user_id,
                )
                await audit.record(
                    connection,
                    context,
                    "doctor.document_uploaded",
                    "doctor",
                    doctor["id"],
                    detail={
                        "document_id": str(document_id),
                        "kind": upload.kind,
                        "content_type": media_type,
                        "size_bytes": len(content),
                    },
                )
        except BaseException:
            if path is not None:
                await files.remove(path)
            raise
        return views.document_out(row)

    async def delete_document(
        self, principal: Principal, document_id: uuid.UUID, context: AuditContext
    ) -> None:
        async with self.db.transaction() as connection:
            doctor = await own_doctor(connection, principal, lock=True)
            if doctor["status"] not in EDITABLE:
                raise WrongStatus(
                    f"the application is {doctor['status']}; its documents are kept",
                    status_now=doctor["status"],
                )
            deleted = await connection.fetchval(
                "DELETE FROM doctor_documents WHERE id = $1 AND doctor_id = $2 RETURNING id",
                document_id,
                doctor["id"],
            )
            if deleted is None:
                raise NotFound("no such document")
            await audit.record(
                connection,
                context,
                "doctor.document_deleted",
                "doctor",
                doctor["id"],
                detail={"document_id": str(document_id)},
            )
        await files.remove(documents.path_of(self.settings.data_path, doctor["id"], document_id))

    async def document_file(
        self,
        principal: Principal,
        doctor_id: uuid.UUID,
        document_id: uuid.UUID,
        context: AuditContext,
    ) -> tuple[bytes, asyncpg.Record]:
        """The document's bytes and its row; every read by someone is audited."""
        doctor = await visible_doctor(self.db.pool, principal, doctor_id)
        row = await self.db.fetchrow(
            "SELECT * FROM doctor_documents WHERE id = $1 AND doctor_id = $2",
            document_id,
            doctor["id"],
        )
        if row is None:
            raise NotFound("no such document")
        path = documents.path_of(self.settings.data_path, doctor["id"], document_id)
        try:
            content = await files.load(path)
        except FileNotFoundError:
            log.error("document %s of doctor %s is missing at %s", document_id, doctor_id, path)
            raise NotFound(
                "the document's file is missing; ask the doctor to upload it again"
            ) from None
        async with self.db.transaction() as connection:
            await audit.record(
                connection,
                context,
                "doctor.document_viewed",
                "doctor",
                doctor_id,
                detail={"document_id": str(document_id), "kind": row["kind"]},
            )
        return content, row

    # -- reads -----------------------------------------------------------------------------
    async def detail(self, principal: Principal, doctor_id: uuid.UUID) -> DoctorOut:
        doctor = await visible_doctor(self.db.pool, principal, doctor_id)
        return await views.doctor_out(self.db.pool, doctor, principal)

    async def check_runs(self, principal: Principal, doctor_id: uuid.UUID) -> list[CheckRunOut]:
        doctor = await visible_doctor(self.db.pool, principal, doctor_id)
        rows = await self.db.fetch(
            "SELECT * FROM doctor_checks WHERE doctor_id = $1 ORDER BY id", doctor["id"]
        )
        return views.check_runs_out(rows, principal.locale)

    async def listing(
        self,
        principal: Principal,
        *,
        status: DoctorStatus | None,
        hospital_id: uuid.UUID | None,
        cursor: str | None,
        limit: int,
    ) -> DoctorPage:
        """Newest change first, keyset-paginated; admins see their hospitals' doctors only."""
        after = _decode_cursor(cursor) if cursor else None
        rows = await self.db.fetch(
            """
            SELECT d.id, d.full_name, d.title, d.hospital_id, h.name AS hospital_name,
                   d.specialties, d.status, d.submitted_at, d.updated_at
              FROM doctors d JOIN hospitals h ON h.id = d.hospital_id
             WHERE may_see_doctor($1, $2, d.user_id, d.hospital_id)
               AND ($3::text IS NULL OR d.status = $3)
               AND ($4::uuid IS NULL OR d.hospital_id = $4)
               AND ($5::timestamptz IS NULL OR (d.updated_at, d.id) < ($5, $6::uuid))
             ORDER BY d.updated_at DESC, d.id DESC
             LIMIT $7
            """,
            principal.role,
            principal.user_id,
            status,
            hospital_id,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
        items = [DoctorSummary(**dict(row)) for row in rows[:limit]]
        last = items[-1] if len(rows) > limit else None
        return DoctorPage(
            items=items,
            next_cursor=_encode_cursor(last.updated_at, last.id) if last else None,
        )
