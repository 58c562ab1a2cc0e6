"""Files shared in a consultation: PDF, JPEG and PNG judged by their content and size, a name
that lies about the type refused, served to participants only and every read audited."""

from __future__ import annotations

import io
import stat
import uuid
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from medmarket.consults.chat import path_of
from medmarket.consults.tests.helpers import Visit, actions, booked_visit, call
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import Doctor, Patient, ready_patient

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
HTML = b"<html><script>alert(1)</script></html>"
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


async def upload(
    app: Litestar, visit: Visit, who: Patient | Doctor, name: str, content: bytes, **form: str
) -> httpx.Response:
    async with client_for(app) as http:
        return await http.post(
            visit.path + "/attachments",
            headers=who.headers,
            files={"file": (name, io.BytesIO(content), "application/octet-stream")},
            data=form,
        )


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("血压记录.png", PNG, "image/png"),
        ("舌苔.JPG", JPEG, "image/jpeg"),
        ("报告.pdf", PDF, "application/pdf"),
        ("scan", PNG, "image/png"),
    ],
)
async def test_a_file_is_shared_as_a_chat_message(
    app: Litestar, name: str, content: bytes, media_type: str
) -> None:
    visit = await booked_visit(app)
    response = await upload(app, visit, visit.patient, name, content, caption="昨天的")
    assert response.status_code == 201, response.text
    message = response.json()
    attachment = message["attachment"]
    assert message["body"] == "昨天的" and message["author_role"] == "patient"
    assert (attachment["name"], attachment["content_type"]) == (name, media_type)
    assert attachment["size_bytes"] == len(content)
    async with client_for(app) as http:
        served = await http.get(attachment["download_path"], headers=visit.doctor.headers)
    assert served.status_code == 200 and served.content == content
    assert served.headers["content-type"].startswith(media_type)
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"].startswith("attachment;")
    history = await call(app, "GET", visit.path + "/messages", visit.doctor)
    assert history.json()["messages"][0]["attachment"]["id"] == attachment["id"]
    stored = path_of(
        app.state.settings.data_path, uuid.UUID(visit.consultation_id), uuid.UUID(attachment["id"])
    )
    assert stat.S_IMODE(Path(stored).stat().st_mode) == 0o600
    trail = await actions(app, visit.consultation_id)
    assert "consultation.attachment_uploaded" in trail and "consultation.attachment_read" in trail


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("报告.pdf", PNG, "extension-mismatch"),  # a picture calling itself a PDF
        ("photo.png", JPEG, "extension-mismatch"),
        ("photo.jpg", HTML, "unsupported-type"),  # a page dressed as a photo
        ("report.pdf", WINDOWS_PROGRAM, "unsupported-type"),
        ("x.pdf", PDF[:-7], "unsupported-type"),  # a PDF cut short
    ],
)
async def test_a_file_whose_name_lies_is_refused(
    app: Litestar, name: str, content: bytes, code: str
) -> None:
    visit = await booked_visit(app)
    response = await upload(app, visit, visit.patient, name, content)
    assert response.status_code == 415, response.text
    problem = response.json()
    assert problem["type"] == "/problems/unsupported-media"
    assert problem["errors"][0] == {**problem["errors"][0], "field": "file", "code": code}
    history = await call(app, "GET", visit.path + "/messages", visit.patient)
    assert history.json()["messages"] == []


async def test_size_and_emptiness_are_checked(app: Litestar) -> None:
    visit = await booked_visit(app)
    limit = app.state.settings.consultation_attachment_max_bytes
    too_big = await upload(app, visit, visit.patient, "big.png", PNG + b"\x00" * limit)
    assert too_big.status_code == 413 and too_big.json()["errors"][0]["code"] == "too-large"
    empty = await upload(app, visit, visit.patient, "empty.png", b"")
    assert empty.status_code == 422 and empty.json()["errors"][0]["code"] == "empty"
    folder = app.state.settings.data_path / "consultations" / visit.consultation_id
    assert not folder.exists() or not any(folder.iterdir())


async def test_only_participants_read_a_file(app: Litestar) -> None:
    visit = await booked_visit(app)
    shared = (await upload(app, visit, visit.doctor, "处方.pdf", PDF)).json()["attachment"]
    stranger: Patient = await ready_patient(app)
    other = await booked_visit(app)
    async with client_for(app) as http:
        refused = await http.get(shared["download_path"], headers=stranger.headers)
        elsewhere = await http.get(
            f"{other.path}/attachments/{shared['id']}", headers=other.patient.headers
        )
    assert refused.status_code == 404 and elsewhere.status_code == 404
