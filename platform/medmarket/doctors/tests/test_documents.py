"""Documents are accepted by what their bytes are, never by their name or declared type;
they are size-limited, stored under the data directory with no name the uploader chose,
and served only as attachments to those who may see the application."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from medmarket.app import create_app
from medmarket.doctors.tests.helpers import audit_actions
from medmarket.settings import Settings
from medmarket.tests.support.factories import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    DoctorAccount,
    draft_doctor,
    hospital_with_demo_adapter,
    submit,
)
from medmarket.tests.support.fixtures import client_for, make_settings, running

HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
TRUNCATED_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"  # no %%EOF: not whole


@pytest.fixture
async def doctor(app: Litestar) -> DoctorAccount:
    return await draft_doctor(app, await hospital_with_demo_adapter(app), with_documents=False)


async def upload(
    http: httpx.AsyncClient,
    doctor: DoctorAccount,
    name: str,
    content: bytes,
    *,
    kind: str = "licence",
    declared: str = "application/octet-stream",
) -> httpx.Response:
    return await http.post(
        "/api/doctor/application/documents",
        headers=doctor.headers,
        data={"kind": kind},
        files={"file": (name, content, declared)},
    )


@pytest.mark.parametrize(
    ("name", "content", "declared", "stored_as"),
    [
        ("licence.pdf", PDF_BYTES, "application/pdf", "application/pdf"),
        ("scan.png", PNG_BYTES, "image/png", "image/png"),
        ("photo.jpeg", JPEG_BYTES, "image/jpeg", "image/jpeg"),
        # A lying declared type: the content decides; a name without extension claims nothing.
        ("scan.PNG", PNG_BYTES, "application/pdf", "image/png"),
        ("no-extension", JPEG_BYTES, "text/html", "image/jpeg"),
    ],
)
async def test_accepted_by_content(
    http: httpx.AsyncClient,
    doctor: DoctorAccount,
    name: str,
    content: bytes,
    declared: str,
    stored_as: str,
) -> None:
    response = await upload(http, doctor, name, content, declared=declared)
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == stored_as
    assert response.json()["size_bytes"] == len(content)
    assert response.json()["original_name"] == name


@pytest.mark.parametrize(
    ("name", "content"), [("licence.pdf", PNG_BYTES), ("photo.jpg", PDF_BYTES)]
)
async def test_a_name_that_lies_about_the_content_is_refused(
    http: httpx.AsyncClient, doctor: DoctorAccount, name: str, content: bytes
) -> None:
    response = await upload(http, doctor, name, content, declared="application/octet-stream")
    assert response.status_code == 415, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("file", "extension-mismatch")
    mine = (await http.get("/api/doctor/application", headers=doctor.headers)).json()
    assert mine["documents"] == []


@pytest.mark.parametrize(
    ("name", "content", "declared"),
    [
        ("licence.pdf", HTML, "application/pdf"),
        ("id.jpg", WINDOWS_EXE, "image/jpeg"),
        ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"),
        ("licence.pdf", TRUNCATED_PDF, "application/pdf"),
        ("notes.txt", "执业证书".encode(), "text/plain"),
    ],
)
async def test_refused_when_the_content_is_something_else(
    http: httpx.AsyncClient, doctor: DoctorAccount, name: str, content: bytes, declared: str
) -> None:
    response = await upload(http, doctor, name, content, declared=declared)
    assert response.status_code == 415, response.text
    problem = response.json()
    assert problem["type"] == "/problems/unsupported-media"
    assert problem["errors"][0]["field"] == "file"
    mine = await http.get("/api/doctor/application", headers=doctor.headers)
    assert mine.json()["documents"] == []


async def test_an_empty_file_and_a_missing_kind_are_named(
    http: httpx.AsyncClient, doctor: DoctorAccount
) -> None:
    empty = await upload(http, doctor, "licence.pdf", b"")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "file"
    unkind = await upload(http, doctor, "licence.pdf", PDF_BYTES, kind="selfie")
    assert unkind.status_code in (400, 422)
    assert "kind" in unkind.text


@pytest.fixture(scope="module")
async def small_uploads_app(database_url: str, settings: Settings) -> AsyncIterator[Litestar]:
    small = make_settings(database_url, document_max_bytes=4096, data_dir=settings.data_dir)
    async with running(create_app(small)) as application:
        yield application


async def test_an_oversized_document_is_refused(small_uploads_app: Litestar) -> None:
    doctor = await draft_doctor(
        small_uploads_app, await hospital_with_demo_adapter(small_uploads_app), with_documents=False
    )
    padded = PDF_BYTES[:-6] + b" " * 5000 + b"%%EOF\n"
    async with client_for(small_uploads_app) as http:
        response = await upload(http, doctor, "licence.pdf", padded)
        assert response.status_code == 413
        assert response.json()["limit_bytes"] == 4096
        assert response.json()["errors"][0]["field"] == "file"
        fits = await upload(http, doctor, "licence.pdf", PDF_BYTES)
        assert fits.status_code == 201


async def test_stored_privately_and_served_only_as_an_attachment(
    app: Litestar, http: httpx.AsyncClient, doctor: DoctorAccount
) -> None:
    created = await upload(http, doctor, "../../etc/licence.png", PNG_BYTES)
    document = created.json()
    assert document["original_name"] == "licence.png"
    data_dir = Path(app.state.settings.data_dir)
    stored = data_dir / "documents" / doctor.doctor_id / document["id"]
    assert stored.read_bytes() == PNG_BYTES
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert list(data_dir.rglob("*licence*")) == []  # the uploader's name is no path

    served = await http.get(document["url"], headers=doctor.headers)
    assert served.status_code == 200
    assert served.content == PNG_BYTES
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in served.headers["cache-control"]
    assert "sandbox" in served.headers["content-security-policy"]
    assert "doctor.document_viewed" in await audit_actions(app, doctor.doctor_id)


async def test_documents_are_fixed_once_submitted(
    app: Litestar, http: httpx.AsyncClient, doctor: DoctorAccount
) -> None:
    licence = (await upload(http, doctor, "licence.pdf", PDF_BYTES)).json()
    spare = (await upload(http, doctor, "spare.pdf", PDF_BYTES, kind="other")).json()
    deleted = await http.delete(
        f"/api/doctor/application/documents/{spare['id']}", headers=doctor.headers
    )
    assert deleted.status_code == 204
    path = Path(app.state.settings.data_dir) / "documents" / doctor.doctor_id / spare["id"]
    assert not path.exists()
    await upload(http, doctor, "id.png", PNG_BYTES, kind="identity")
    application = await submit(app, doctor)
    assert application["status"] == "needs_review"  # the registry does not know this doctor
    # A reviewer may ask for more: adding is allowed while in review, deleting is not.
    extra = await upload(http, doctor, "title.pdf", PDF_BYTES, kind="title_certificate")
    assert extra.status_code == 201
    kept = await http.delete(
        f"/api/doctor/application/documents/{licence['id']}", headers=doctor.headers
    )
    assert kept.status_code == 409
