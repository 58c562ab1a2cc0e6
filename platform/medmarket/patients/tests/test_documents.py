"""Documents of earlier diagnoses: judged by content, kept under consent, private to the
patient's account and to the doctor of a visit that cites them."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar

from medmarket.tests.support.factories import JPEG_BYTES, PDF_BYTES
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import (
    PRIOR,
    Patient,
    approved_doctor,
    expect,
    free_slots,
    ready_patient,
)

FORM = {
    "kind": "diagnosis",
    "institution": "临安区人民医院",
    "issued_on": "2026-05-10",
    "title": "门诊病历",
}


async def upload(
    app: Litestar, patient: Patient, content: bytes, name: str, **form: str
) -> dict[str, Any]:
    async with client_for(app) as http:
        response = await http.post(
            f"/api/patients/{patient.id}/documents",
            headers=patient.headers,
            data={**FORM, **form},
            files={"file": (name, content, "application/octet-stream")},
        )
    return {"status": response.status_code, "body": response.json()}


async def test_a_document_is_judged_by_its_content(app: Litestar) -> None:
    patient = await ready_patient(app)
    good = await upload(app, patient, PDF_BYTES, "病历.pdf")
    assert good["status"] == 201 and good["body"]["content_type"] == "application/pdf"
    jpeg_named_pdf = await upload(app, patient, JPEG_BYTES, "scan.pdf")  # would mislead a reader
    assert jpeg_named_pdf["status"] == 415
    assert jpeg_named_pdf["body"]["errors"][0]["code"] == "extension-mismatch"
    photo = await upload(app, patient, JPEG_BYTES, "IMG_0042.JPG")
    assert photo["body"]["content_type"] == "image/jpeg"
    lying = await upload(app, patient, b"<html><script>alert(1)</script></html>", "ct.pdf")
    assert lying["status"] == 415
    assert lying["body"]["errors"][0]["field"] == "file"
    empty = await upload(app, patient, b"", "empty.pdf")
    assert empty["status"] == 422
    future = await upload(app, patient, PDF_BYTES, "x.pdf", issued_on="2999-01-01")
    assert future["status"] == 422 and future["body"]["errors"][0]["field"] == "issued_on"
    wordy = await upload(app, patient, PDF_BYTES, "x.pdf", title="很" * 201)
    assert wordy["status"] == 422  # named, not a 500 from the table's check
    assert wordy["body"]["errors"][0] | {"message": ""} == {
        "field": "title",
        "code": "too-long",
        "message": "",
    }
    async with client_for(app) as http:
        listed = await expect(
            http.get(f"/api/patients/{patient.id}/documents", headers=patient.headers)
        )
    assert {d["id"] for d in listed} == {good["body"]["id"], photo["body"]["id"]}


async def test_no_document_without_consent(app: Litestar) -> None:
    patient = await ready_patient(app)
    async with client_for(app) as http:
        await http.delete("/api/patients/me/consent", headers=patient.headers)
    refused = await upload(app, patient, PDF_BYTES, "x.pdf")
    assert refused["status"] == 409
    assert refused["body"]["type"] == "/problems/consent-required"


async def test_only_the_owner_and_the_cited_visits_doctor_may_read_it(app: Litestar) -> None:
    owner, stranger = await ready_patient(app), await ready_patient(app)
    doctor, other_doctor = await approved_doctor(app), await approved_doctor(app)
    document = (await upload(app, owner, PDF_BYTES, "病历.pdf"))["body"]
    path = f"/api/patient-documents/{document['id']}"
    async with client_for(app) as http:
        missing = await http.get(f"/api/patient-documents/{uuid.uuid4()}", headers=stranger.headers)
        assert missing.status_code == 404
        for caller in (stranger, doctor, other_doctor):
            response = await http.get(path, headers=caller.headers)
            assert response.status_code == 404
            assert response.json()["detail"] == missing.json()["detail"]
        # Nor can a stranger list the owner's documents or add one to their record.
        nobody = f"/api/patients/{uuid.uuid4()}/documents"
        owners = f"/api/patients/{owner.id}/documents"
        no_list = await http.get(nobody, headers=stranger.headers)
        listed = await http.get(owners, headers=stranger.headers)
        assert (listed.status_code, listed.json()["detail"]) == (404, no_list.json()["detail"])
        planted = await http.post(
            owners,
            headers=stranger.headers,
            data=FORM,
            files={"file": ("病历.pdf", PDF_BYTES, "application/pdf")},
        )
        assert planted.status_code == 404
        mine = await http.get(owners, headers=owner.headers)
        assert [d["id"] for d in mine.json()] == [document["id"]]
        # Someone else's document cannot be cited for one's own booking.
        slot = (await free_slots(http, doctor.id))[0]
        borrowed = await http.post(
            "/api/bookings",
            headers=stranger.headers,
            json={
                "slot_id": slot["id"],
                "patient_id": stranger.id,
                "prior_diagnosis": {**PRIOR, "document_id": document["id"]},
            },
        )
        assert borrowed.status_code == 422
        assert borrowed.json()["errors"][0]["field"] == "prior_diagnosis.document_id"
        await expect(
            http.post(
                "/api/bookings",
                headers=owner.headers,
                json={
                    "slot_id": slot["id"],
                    "patient_id": owner.id,
                    "prior_diagnosis": {**PRIOR, "document_id": document["id"]},
                },
            ),
            201,
        )
        mine = await http.get(path, headers=owner.headers)
        assert mine.status_code == 200 and mine.content == PDF_BYTES
        assert mine.headers["content-disposition"].startswith("attachment")
        assert mine.headers["x-content-type-options"] == "nosniff"
        cited = await http.get(path, headers=doctor.headers)
        assert cited.status_code == 200 and cited.content == PDF_BYTES
        assert (await http.get(path, headers=other_doctor.headers)).status_code == 404
        reads = await app.state.services.db.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'patient.document_read' "
            "AND detail->>'document_id' = $1",
            document["id"],
        )
        assert reads == 2
        assert (await http.delete(path, headers=stranger.headers)).status_code == 404
        assert (await http.delete(path, headers=owner.headers)).status_code == 204
        assert (await http.get(path, headers=owner.headers)).status_code == 404
