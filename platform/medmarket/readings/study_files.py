"""A study's files: what each kind of study takes (judged by the bytes, never the name), the
DICOM files read and de-identified (``dicom.py``), stored under
``<data_dir>/readings/<request>/<file>``; and reading one back, or a DICOM file's key image
as PNG (``preview.py``), for whoever may see the request, every read audited."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from litestar.datastructures import UploadFile

from medmarket import audit, files
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.errors import InvalidInput, NotFound, PayloadTooLarge
from medmarket.readings import dicom, preview, queries
from medmarket.readings.dicom import DicomStudyFile
from medmarket.readings.schemas import FileOut
from medmarket.readings.states import SUBJECT, Kind

MAX_FILES = 20
MAX_FILE_BYTES = 16 * 1024 * 1024  # below the app's request limit of 20 MiB
NO_FILE = "no such file in this reading request"
# What each kind of study takes, besides DICOM (which every kind takes: a DICOM waveform
# for an ECG, whole-slide or secondary capture for pathology).
OTHER_TYPES: dict[str, tuple[str, ...]] = {
    "imaging": (),
    "ecg": ("application/pdf", "image/jpeg", "image/png"),
    "pathology": ("image/jpeg", "image/png"),
}
SERVED = (dicom.MEDIA_TYPE, *files.ACCEPTED)


@dataclass(frozen=True)
class StudyFile:
    name: str
    content_type: str
    content: bytes  # as stored
    dicom: DicomStudyFile | None


def path_of(data_path: Path, request_id: uuid.UUID, file_id: uuid.UUID) -> Path:
    return data_path / "readings" / str(request_id) / str(file_id)


def _refuse(name: str, detail: str, code: str) -> InvalidInput:
    return InvalidInput(f"{name}: {detail}", field="files", code=code, file=name)


async def accept(kind: Kind, uploads: list[UploadFile]) -> list[StudyFile]:
    """Each upload read and judged; the first one refused names itself (422)."""
    if not uploads:
        raise InvalidInput("send the study's files", field="files", code="missing")
    if len(uploads) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files", field="files", code="too-many")
    accepted = []
    for upload in uploads:
        name = files.display_name(upload.filename) or "file"
        content = await upload.read(MAX_FILE_BYTES + 1)
        await upload.close()
        if len(content) > MAX_FILE_BYTES:
            raise PayloadTooLarge(
                f"{name}: a file may be at most {MAX_FILE_BYTES // (1024 * 1024)} MiB",
                field="files",
                code="too-large",
                file=name,
            )
        if not content:
            raise _refuse(name, "the file is empty", "empty")
        accepted.append(_judge(kind, name, content))
    return accepted


def _judge(kind: Kind, name: str, content: bytes) -> StudyFile:
    claims_dicom = name.lower().endswith((".dcm", ".dicom"))
    if claims_dicom or dicom.looks_like_dicom(content):
        read = dicom.read(content, name)
        return StudyFile(name, dicom.MEDIA_TYPE, read.content, read)
    media_type = files.sniff(content)
    if media_type is None or media_type not in OTHER_TYPES[kind]:
        takes = ", ".join(("DICOM", *OTHER_TYPES[kind]))
        raise _refuse(name, f"a {kind} study takes {takes}; this file is none of them", "type")
    files.require_name_agrees(name, media_type)
    return StudyFile(name, media_type, content, None)


async def store(
    connection: Connection, data_path: Path, request_id: uuid.UUID, study: list[StudyFile]
) -> None:
    """Each file written, then its row (in the caller's transaction: a failed request leaves
    at most unreferenced files, never rows without files)."""
    for position, file in enumerate(study):
        file_id = uuid.uuid4()
        await files.store(path_of(data_path, request_id, file_id), file.content)
        meta = file.dicom
        await connection.execute(
            """
            INSERT INTO reading_files (id, request_id, position, original_name, content_type,
                size_bytes, sha256, modality, study_date, body_part, pixel_rows, pixel_columns,
                frames)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            """,
            file_id,
            request_id,
            position,
            file.name,
            file.content_type,
            len(file.content),
            hashlib.sha256(file.content).digest(),
            meta.modality if meta else None,
            meta.study_date if meta else None,
            meta.body_part if meta else None,
            meta.rows if meta else None,
            meta.columns if meta else None,
            meta.frames if meta else None,
        )


class StudyFiles:
    def __init__(self, db: Database, data_path: Path) -> None:
        self.db = db
        self.data_path = data_path

    async def read(
        self,
        principal: Principal,
        request_id: uuid.UUID,
        file_id: uuid.UUID,
        context: AuditContext,
        *,
        purpose: str = "download",
    ) -> tuple[bytes, FileOut]:
        async with self.db.connection() as connection:
            await queries.visible(connection, principal, request_id)
            row = await connection.fetchrow(
                "SELECT * FROM reading_files WHERE request_id = $1 AND id = $2",
                request_id,
                file_id,
            )
        if row is None:
            raise NotFound(NO_FILE)
        path = path_of(self.data_path, request_id, file_id)
        content = await files.load_kept(
            path, missing="the file is missing; ask the requesting doctor for it"
        )
        async with self.db.transaction() as connection:
            await audit.record(
                connection,
                context,
                "reading.file_read",
                SUBJECT,
                request_id,
                detail={"file_id": str(file_id), "purpose": purpose},
            )
        return content, queries.file_out(row)

    async def preview(
        self,
        principal: Principal,
        request_id: uuid.UUID,
        file_id: uuid.UUID,
        context: AuditContext,
    ) -> bytes:
        """The key image of a DICOM file as PNG (``preview.py``); 404 for a file with none."""
        content, file = await self.read(principal, request_id, file_id, context, purpose="preview")
        if file.content_type != dicom.MEDIA_TYPE:
            raise NotFound(preview.NO_IMAGE)
        return await preview.png_of(content)
