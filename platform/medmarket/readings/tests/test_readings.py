"""A study sent for a written report: a reader of the centre claims it, reports and signs it,
and the requester reads the report; a critical finding is told at once; two readers
claiming at once, one wins; and nobody outside sees any of it."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io

import asyncpg
import pydicom
import pytest
from litestar import Litestar
from PIL import Image

from medmarket.readings.tests.helpers import (
    QUESTION,
    call,
    ct_small,
    notifications,
    ok,
    reading_centre,
    requester_visit,
    send,
    sent,
)
from medmarket.tests.support.factories import PDF_BYTES
from medmarket.tests.support.seed import approved_doctor, hospital, ready_patient

REPORT = {
    "findings": "主动脉弓部内膜片影，真假腔形成。",
    "impression": "主动脉夹层（Stanford A 型）可能性大。",
}


async def test_a_study_is_claimed_reported_signed_and_returned(app: Litestar) -> None:
    centre = await reading_centre(app)
    [reader] = centre.readers
    visit = await requester_visit(app)
    reading = await sent(app, centre, visit)
    assert reading["status"] == "received" and reading["question"] == QUESTION
    received = dt.datetime.fromisoformat(reading["received_at"])
    due = dt.datetime.fromisoformat(reading["due_at"])
    assert due - received == dt.timedelta(hours=4)  # urgent

    queue = await ok(app, "GET", f"/api/reading-centres/{centre.id}/queue", reader)
    assert [item["id"] for item in queue] == [reading["id"]]
    claimed = await ok(app, "POST", f"/api/readings/{reading['id']}/claim", reader)
    assert claimed["status"] == "claimed" and claimed["claimed_by"]["id"] == reader.id
    # A report without a claim's holder, or twice, is refused.
    assert (
        await call(app, "POST", f"/api/readings/{reading['id']}/report", visit.doctor, REPORT)
    ).status_code == 403

    reported = await ok(app, "POST", f"/api/readings/{reading['id']}/report", reader, REPORT)
    assert reported["status"] == "reported" and reported["reported_at"]
    signature = reported["report"]["signature"]
    assert signature["reader"]["id"] == reader.id and len(signature["content_sha256"]) == 64
    again = await call(app, "POST", f"/api/readings/{reading['id']}/report", reader, REPORT)
    assert again.status_code == 409

    returned = await ok(app, "GET", f"/api/readings/{reading['id']}", visit.doctor)
    assert returned["report"]["impression"] == REPORT["impression"]
    # The requester's own list has it, reported; a reader's list is of what they sent (none).
    [listed] = await ok(app, "GET", "/api/readings", visit.doctor)
    assert (listed["id"], listed["status"]) == (reading["id"], "reported")
    assert await ok(app, "GET", "/api/readings", reader) == []
    assert returned["report"]["critical"] is False
    assert [event["status"] for event in returned["timeline"]] == [
        "received",
        "claimed",
        "reported",
    ]
    [told] = await notifications(app, "reading.reported", visit.doctor.account.id)
    assert told["urgency"] == "normal"
    assert not await notifications(app, "reading.critical", visit.doctor.account.id)
    # Reported: out of the queue, and no longer the requester's to cancel.
    assert await ok(app, "GET", f"/api/reading-centres/{centre.id}/queue", reader) == []
    cancel = await call(
        app, "POST", f"/api/readings/{reading['id']}/cancel", visit.doctor, {"reason": "不需要了"}
    )
    assert cancel.status_code == 409
    actions = await app.state.services.db.fetch(
        "SELECT action FROM audit_events WHERE subject_type = 'reading_request' "
        "AND subject_id = $1 ORDER BY id",
        reading["id"],
    )
    assert [row["action"] for row in actions] == [
        "reading.received",
        "reading.claimed",
        "reading.reported",
    ]


async def test_a_critical_finding_is_told_to_the_requester_at_once(app: Litestar) -> None:
    centre = await reading_centre(app)
    [reader] = centre.readers
    visit = await requester_visit(app)
    reading = await sent(app, centre, visit, urgency="emergency")
    await ok(app, "POST", f"/api/readings/{reading['id']}/claim", reader)
    without_note = {**REPORT, "critical": True}
    refused = await call(app, "POST", f"/api/readings/{reading['id']}/report", reader, without_note)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "critical_note"

    note = "急性主动脉夹层，请立即转上级医院心外科"
    critical = {**without_note, "critical_note": note}
    reported = await ok(app, "POST", f"/api/readings/{reading['id']}/report", reader, critical)
    assert reported["report"]["critical"] is True
    [alert] = await notifications(app, "reading.critical", visit.doctor.account.id)
    assert alert["urgency"] == "high" and alert["params"]["note"] == note
    assert alert["params"]["reading_id"] == reading["id"]


async def test_two_readers_claiming_at_once_one_wins(app: Litestar) -> None:
    centre = await reading_centre(app, readers=2)
    first, second = centre.readers
    visit = await requester_visit(app)
    reading = await sent(app, centre, visit)
    path = f"/api/readings/{reading['id']}/claim"
    answers = await asyncio.gather(call(app, "POST", path, first), call(app, "POST", path, second))
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    [winner] = [answer.json() for answer in answers if answer.status_code == 200]
    held = await app.state.services.db.fetchval(
        "SELECT count(*) FROM reading_claims WHERE request_id = $1 AND released_at IS NULL",
        reading["id"],
    )
    assert held == 1
    # The winner releases it: back in the queue, and the other reader may take it.
    winner_reader = first if winner["claimed_by"]["id"] == first.id else second
    other = second if winner_reader is first else first
    released = await ok(app, "POST", f"/api/readings/{reading['id']}/release", winner_reader)
    assert released["status"] == "received" and released["claimed_by"] is None
    taken = await ok(app, "POST", path, other)
    assert taken["claimed_by"]["id"] == other.id


async def test_a_study_without_the_patients_consent_is_refused(app: Litestar) -> None:
    centre = await reading_centre(app, readers=0)
    visit = await requester_visit(app)
    for consent in ("false", None):
        response = await send(app, centre, visit, consent=consent)
        assert response.status_code == 422, response.text
        assert [error["field"] for error in response.json()["errors"]] == ["consent"]
    assert (
        await app.state.services.db.fetchval(
            "SELECT count(*) FROM reading_requests WHERE booking_id = $1", visit.booking_id
        )
        == 0
    )


async def test_a_real_dicom_file_is_read_and_stored_without_the_patients_identity(
    app: Litestar,
) -> None:
    centre = await reading_centre(app)
    [reader] = centre.readers
    visit = await requester_visit(app)
    reading = await sent(app, centre, visit)
    [file] = reading["files"]
    assert file["content_type"] == "application/dicom"
    assert (file["modality"], file["study_date"]) == ("CT", "2004-01-19")
    assert (file["rows"], file["columns"], file["frames"]) == (128, 128, 1)
    original = pydicom.dcmread(io.BytesIO(ct_small()))
    assert str(original.PatientName)  # the test file names its patient ...

    download = await call(app, "GET", f"/api/readings/{reading['id']}/files/{file['id']}", reader)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/dicom")
    assert hashlib.sha256(download.content).hexdigest() == file["sha256"]
    stored = pydicom.dcmread(io.BytesIO(download.content))
    # ... the stored copy does not, but keeps the image.
    assert "PatientName" not in stored and "PatientID" not in stored
    assert stored.Rows == 128 and stored.PixelData == original.PixelData


async def test_a_file_only_named_dcm_is_refused_naming_it(app: Litestar) -> None:
    centre = await reading_centre(app, readers=0)
    visit = await requester_visit(app)
    response = await send(
        app,
        centre,
        visit,
        [("ct.dcm", ct_small(), "application/dicom"), ("scan.dcm", PDF_BYTES, "application/dicom")],
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["file"] == "scan.dcm" and "scan.dcm" in problem["detail"]
    assert problem["errors"][0]["field"] == "files"
    # A PDF is no imaging study, whatever its name says.
    as_pdf = await send(app, centre, visit, [("report.pdf", PDF_BYTES, "application/pdf")])
    assert as_pdf.status_code == 422 and as_pdf.json()["file"] == "report.pdf"


async def test_an_ecg_takes_a_pdf_or_a_dicom_waveform(app: Litestar) -> None:
    centre = await reading_centre(app, kind="ecg", readers=0)
    visit = await requester_visit(app)
    waveform = pydicom.data.get_testdata_file("waveform_ecg.dcm")
    assert waveform is not None
    with open(waveform, "rb") as handle:
        ecg = handle.read()
    response = await send(
        app,
        centre,
        visit,
        [("ecg.pdf", PDF_BYTES, "application/pdf"), ("ecg.dcm", ecg, "application/dicom")],
        kind="ecg",
    )
    assert response.status_code == 201, response.text
    reading = response.json()
    assert [f["content_type"] for f in reading["files"]] == ["application/pdf", "application/dicom"]
    assert reading["files"][1]["modality"] == "ECG"


async def test_outsiders_get_404(app: Litestar) -> None:
    centre = await reading_centre(app)
    visit = await requester_visit(app)
    reading = await sent(app, centre, visit)
    [file] = reading["files"]
    other_doctor = await approved_doctor(app, publish_days=None)
    other_admin = (await hospital(app)).admin
    patient = await ready_patient(app)
    paths = [
        f"/api/readings/{reading['id']}",
        f"/api/readings/{reading['id']}/files/{file['id']}",
        f"/api/reading-centres/{centre.id}/queue",
        f"/api/reading-centres/{centre.id}/turnaround",
    ]
    for path in paths:
        for outsider in (other_doctor, other_admin):
            response = await call(app, "GET", path, outsider)
            if path.endswith("/queue") and outsider is other_admin:
                assert response.status_code == 403  # the queue is for doctors
                continue
            assert response.status_code == 404, (path, response.text)
        # A patient: the request's and its files' 404; the centre's desk is not theirs (403).
        expected = 403 if path.startswith("/api/reading-centres") else 404
        assert (await call(app, "GET", path, patient)).status_code == expected, path
    claim = await call(app, "POST", f"/api/readings/{reading['id']}/claim", other_doctor)
    assert claim.status_code == 404
    # The centre's own admin sees the request; another doctor cannot send for this visit.
    assert (await ok(app, "GET", paths[0], centre.admin))["id"] == reading["id"]
    foreign = await call(
        app,
        "POST",
        "/api/readings",
        other_doctor,
        data={
            "centre_id": centre.id,
            "booking_id": visit.booking_id,
            "kind": "imaging",
            "urgency": "routine",
            "question": QUESTION,
            "consent": "true",
        },
        files=[("files", ("ct.dcm", ct_small(), "application/dicom"))],
    )
    assert foreign.status_code == 404 and foreign.json()["errors"][0]["field"] == "booking_id"


async def test_a_dicom_image_is_previewed_as_png(app: Litestar) -> None:
    centre = await reading_centre(app, kind="ecg")
    [reader] = centre.readers
    visit = await requester_visit(app)
    waveform = pydicom.data.get_testdata_file("waveform_ecg.dcm")
    assert waveform is not None
    with open(waveform, "rb") as handle:
        ecg = handle.read()
    study = [
        ("ct.dcm", ct_small(), "application/dicom"),
        ("ecg.dcm", ecg, "application/dicom"),
        ("ecg.pdf", PDF_BYTES, "application/pdf"),
    ]
    response = await send(app, centre, visit, study, kind="ecg")
    assert response.status_code == 201, response.text
    reading = response.json()
    image, trace, pdf = reading["files"]
    base = f"/api/readings/{reading['id']}/files"
    preview = await call(app, "GET", f"{base}/{image['id']}/preview", reader)
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    png = Image.open(io.BytesIO(preview.content))
    assert png.format == "PNG" and png.size == (128, 128) and png.mode == "L"
    low, high = png.getextrema()
    assert isinstance(low, int) and isinstance(high, int) and high - low > 100  # not blank
    for without_image in (trace, pdf):
        answer = await call(app, "GET", f"{base}/{without_image['id']}/preview", reader)
        assert answer.status_code == 404
    outsider = await approved_doctor(app, publish_days=None)
    assert (await call(app, "GET", f"{base}/{image['id']}/preview", outsider)).status_code == 404


async def test_the_database_holds_one_claim_whatever_the_code_read(app: Litestar) -> None:
    """The held-claim index, not Python, decides: two transactions that both saw the request
    unclaimed insert a claim, and the second fails once the first commits."""
    centre = await reading_centre(app, readers=2)
    first, second = centre.readers
    visit = await requester_visit(app)
    reading = await sent(app, centre, visit)
    db = app.state.services.db
    insert = "INSERT INTO reading_claims (request_id, reader_id) VALUES ($1, $2)"
    async with db.connection() as one, db.connection() as other:
        async with one.transaction():
            await one.execute(insert, reading["id"], first.id)
            waiting = asyncio.ensure_future(other.execute(insert, reading["id"], second.id))
            await asyncio.sleep(0.2)
            assert not waiting.done()  # it waits for the first transaction
        with pytest.raises(asyncpg.UniqueViolationError):
            await waiting


async def test_the_requester_cancels_before_the_report(app: Litestar) -> None:
    centre = await reading_centre(app)
    [reader] = centre.readers
    visit = await requester_visit(app)
    reading = await sent(app, centre, visit)
    await ok(app, "POST", f"/api/readings/{reading['id']}/claim", reader)
    path = f"/api/readings/{reading['id']}/cancel"
    # The reader may not call it off; the requester may, claimed or not.
    assert (await call(app, "POST", path, reader, {"reason": "重复申请"})).status_code == 403
    cancelled = await ok(app, "POST", path, visit.doctor, {"reason": "患者已转上级医院"})
    assert cancelled["status"] == "cancelled" and cancelled["claimed_by"] is None
    assert cancelled["cancel_reason"] == "患者已转上级医院"
    assert [e["status"] for e in cancelled["timeline"]] == ["received", "claimed", "cancelled"]
    assert await ok(app, "GET", f"/api/reading-centres/{centre.id}/queue", reader) == []
    late = await call(app, "POST", f"/api/readings/{reading['id']}/claim", reader)
    assert late.status_code == 409 and late.json()["status_now"] == "cancelled"
