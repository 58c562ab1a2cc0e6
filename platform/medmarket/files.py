"""Uploaded files (a doctor's licence scan, a patient's earlier diagnosis, an attachment in
a consultation): accepted by what the bytes are, not by their name, and stored where no web
server serves them.

Each domain decides where under ``<data_dir>`` its files live (named only by ids the server
made, readable by the server's user only) and who may read them; the API serves them as
attachments.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import unicodedata
import uuid
from pathlib import Path
from urllib.parse import quote

from litestar import Response
from litestar.datastructures import UploadFile

from medmarket.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMedia

log = logging.getLogger("medmarket.files")

ACCEPTED = ("application/pdf", "image/jpeg", "image/png")
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
# The names each type goes by, for checking what an uploader's file name claims.
NAME_EXTENSIONS = {
    "application/pdf": frozenset({"pdf"}),
    "image/jpeg": frozenset({"jpg", "jpeg", "jpe", "jfif"}),
    "image/png": frozenset({"png"}),
}
# How far from the end a PDF's "%%EOF" may sit (writers append whitespace or padding).
_PDF_TAIL = 2048
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sniff(content: bytes) -> str | None:
    """The media type the content really is (PDF, JPEG or PNG), or None.

    Beyond the magic number, each format must look whole: a PDF ends with ``%%EOF``, a PNG's
    first chunk is its header, a JPEG's start-of-image is followed by a marker.
    """
    if content.startswith(b"%PDF-") and b"%%EOF" in content[-_PDF_TAIL:]:
        return "application/pdf"
    if content.startswith(_PNG_SIGNATURE) and content[12:16] == b"IHDR":
        return "image/png"
    if len(content) > 4 and content.startswith(b"\xff\xd8\xff") and content[3] >= 0xC0:
        return "image/jpeg"
    return None


def require_accepted(content: bytes) -> str:
    media_type = sniff(content)
    if media_type is None:
        raise UnsupportedMedia(
            "upload a PDF, JPEG or PNG file; this file's content is none of them "
            "(the file name does not decide)",
            field="file",
            code="unsupported-type",
            accepted=list(ACCEPTED),
        )
    return media_type


def require_name_agrees(name: str, media_type: str) -> None:
    """Refuse a file whose name claims another type than its content is ("scan.pdf" that is
    really a PNG): whoever downloads it would be misled by the name. A name without an
    extension claims nothing."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return
    if extension.lower() not in NAME_EXTENSIONS[media_type]:
        raise UnsupportedMedia(
            f"the file is named .{extension[:10]} but its content is {media_type}; "
            "rename it or upload the right file",
            field="file",
            code="extension-mismatch",
            detected=media_type,
        )


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


def display_name(raw: str | None) -> str:
    """The uploader's file name, for display only (never part of a path or a header as is)."""
    name = unicodedata.normalize("NFC", raw or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return _UNSAFE.sub("_", name).strip()[:255]


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


async def store(path: Path, content: bytes) -> None:
    """Write atomically: a reader sees the whole file or none."""
    await asyncio.to_thread(_write, path, content)


async def load(path: Path) -> bytes:
    return await asyncio.to_thread(path.read_bytes)


async def load_kept(path: Path, *, missing: str) -> bytes:
    """A file the database says is kept: its bytes, or NotFound saying ``missing`` (what the
    reader can do) when it is not on disk, logged as the fault it is."""
    try:
        return await load(path)
    except FileNotFoundError:
        log.error("a kept file is missing at %s", path)
        raise NotFound(missing) from None


# What a file the platform serves is sent with: never sniffed, cached or run as a page.
SERVED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def served(
    content: bytes, media_type: str, disposition_header: str | None = None
) -> Response[bytes]:
    """A stored file as a response (an attachment with ``disposition_header``, else inline,
    as a preview image is) that no browser renders as a page."""
    headers = dict(SERVED_HEADERS)
    if disposition_header is not None:
        headers["Content-Disposition"] = disposition_header
    return Response(content, media_type=media_type, headers=headers)


async def remove(path: Path) -> None:
    await asyncio.to_thread(path.unlink, True)


def disposition(kind: str, document_id: uuid.UUID, media_type: str, original: str) -> str:
    """``attachment`` with a plain ASCII name and, for browsers that read it, the original."""
    fallback = f"{kind}-{str(document_id)[:8]}.{EXTENSIONS[media_type]}"
    header = f'attachment; filename="{fallback}"'
    if original:
        header += f"; filename*=UTF-8''{quote(original, safe='')}"
    return header


async def read_accepted(upload: UploadFile, limit: int) -> tuple[bytes, str]:
    """The upload's bytes and their real media type; refuses an empty, oversized or
    unaccepted file with the field ``file`` named. Reads at most ``limit + 1`` bytes."""
    content = await upload.read(limit + 1)
    await upload.close()
    if len(content) > limit:
        raise PayloadTooLarge(
            f"a file may be at most {limit // (1024 * 1024)} MiB",
            field="file",
            code="too-large",
            limit_bytes=limit,
        )
    if not content:
        raise InvalidInput("the file is empty", field="file", code="empty")
    return content, require_accepted(content)
