"""The consultation's doctor writes a prescription during the visit: checked, issued as a
canonical document, kept with its items, and read back by the patient."""

from __future__ import annotations

import hashlib
import uuid

from litestar import Litestar

from medmarket.prescriptions.document import prescription_document, read_document
from medmarket.prescriptions.tests.helpers import (
    AMLODIPINE,
    METFORMIN,
    item,
    ok,
    prescribe,
    prescription,
    visit_in_progress,
)
from medmarket.tests.support.factories import platform_day


async def test_the_doctor_issues_and_the_patient_reads(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    body = prescription(
        item(),
        item(drug_id=METFORMIN, dose="0.5", dose_unit="g", frequency="bid", quantity="14.0"),
    )
    issued = await prescribe(app, visit, body)
    assert (issued["status"], issued["standing"], issued["version"]) == (
        "issued",
        "awaiting_review",
        1,
    )
    assert issued["valid_from"] == issued["valid_until"] == platform_day().isoformat()
    assert issued["diagnosis"] == "原发性高血压 2 级"
    assert [i["drug"]["id"] for i in issued["items"]] == [AMLODIPINE, METFORMIN]
    assert issued["items"][1]["quantity"] == "14"  # shortest decimal text
    assert issued["items"][0]["drug"]["generic_name_zh"] == "氨氯地平"
    assert issued["patient"]["id"] == visit.patient.id
    assert issued["doctor"]["id"] == visit.doctor.id

    read = await ok(app, "GET", f"/api/prescriptions/{issued['id']}", visit.patient)
    assert read == issued
    listed = await ok(app, "GET", visit.path + "/prescriptions", visit.patient)
    assert listed == [issued]


async def test_what_is_stored_is_the_canonical_document_and_its_rows(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    db = app.state.services.db
    row = await db.fetchrow(
        "SELECT document, document_sha256 FROM prescriptions WHERE id = $1",
        uuid.UUID(issued["id"]),
    )
    document = bytes(row["document"])
    assert hashlib.sha256(document).hexdigest() == issued["document_sha256"]
    assert prescription_document(read_document(document)) == document
    items = await db.fetch(
        "SELECT drug_id, dose, quantity, frequency FROM prescription_items "
        "WHERE prescription_id = $1 ORDER BY position",
        uuid.UUID(issued["id"]),
    )
    assert [(str(i["drug_id"]), str(i["dose"].normalize()), i["frequency"]) for i in items] == [
        (AMLODIPINE, "5", "qd")
    ]
