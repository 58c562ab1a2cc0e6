"""The FHIR R4 export: a Bundle of one MedicationRequest per item that ``fhir.resources``
(its R4B models, which read R4's MedicationRequest unchanged) accepts, for every frequency,
route, unit and standing; and the API, which answers it as application/fhir+json to whoever
may read the prescription."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, get_args

import msgspec
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest
from litestar import Litestar

from medmarket.drugs.schemas import Route
from medmarket.prescriptions import fhir
from medmarket.prescriptions.document import (
    PrescribedDrug,
    PrescribedItem,
    PrescribedPatient,
    Prescriber,
)
from medmarket.prescriptions.model import DoseUnit, Frequency, QuantityUnit
from medmarket.prescriptions.schemas import PrescriptionOut
from medmarket.prescriptions.states import Standing
from medmarket.prescriptions.tests.helpers import (
    AMLODIPINE,
    METFORMIN,
    call,
    item,
    prescribe,
    prescription,
    visit_in_progress,
)
from medmarket.tests.support.seed import ready_patient

WRITTEN = dt.datetime(2026, 3, 5, 2, 30, tzinfo=dt.UTC)
FREQUENCIES: tuple[Frequency, ...] = get_args(Frequency)
ROUTES: tuple[Route, ...] = get_args(Route)
DOSE_UNITS: tuple[DoseUnit, ...] = get_args(DoseUnit)
QUANTITY_UNITS: tuple[QuantityUnit, ...] = get_args(QuantityUnit)


def drug(index: int) -> PrescribedDrug:
    return PrescribedDrug(
        id=uuid.uuid5(uuid.NAMESPACE_OID, str(index)),
        generic_name_zh="氨氯地平",
        generic_name_en="amlodipine",
        dosage_form="tablet",
        strength="5",
        unit="mg",
    )


def a_prescription(
    items: list[PrescribedItem], standing: Standing = "awaiting_review"
) -> PrescriptionOut:
    return PrescriptionOut(
        id=uuid.uuid4(),
        consultation_id=uuid.uuid4(),
        version=1,
        supersedes=None,
        replaced_by=None,
        status="issued",
        standing=standing,
        status_changed_at=WRITTEN,
        signature=None,
        renews=None,
        written_at=WRITTEN,
        valid_from=dt.date(2026, 3, 5),
        valid_until=dt.date(2026, 3, 7),
        expires_at=dt.datetime(2026, 3, 7, 16, tzinfo=dt.UTC),
        doctor=Prescriber(
            id=uuid.uuid4(),
            name="王医生",
            title="主治医师",
            licence_number="110110000000001",
            hospital="杭州市第一人民医院",
        ),
        patient=PrescribedPatient(
            id=uuid.uuid4(),
            name="李四",
            sex="female",
            date_of_birth=dt.date(1970, 1, 2),
            age_years=56,
        ),
        diagnosis="原发性高血压 2 级",
        chronic_follow_up=False,
        items=tuple(items),
        findings=(),
        voided_at=None,
        void_reason=None,
        document_sha256="0" * 64,
    )


def an_item(index: int, **changes: Any) -> PrescribedItem:
    values: dict[str, Any] = {
        "drug": drug(index),
        "dose": "0.5",
        "dose_unit": "mg",
        "route": "oral",
        "frequency": "qd",
        "duration_days": 7,
        "quantity": "7",
        "quantity_unit": "tablet",
        "instructions": "早餐后服用",
    }
    values.update(changes)
    return PrescribedItem(**values)


def validated(prescription: PrescriptionOut) -> tuple[dict[str, Any], list[Any]]:
    """The bundle as JSON, and its MedicationRequests as fhir.resources read them (typed
    ``Any``: the tests below reach through elements the model types as optional, and an
    absent one fails the test as surely as a wrong one)."""
    codes = {item.drug.id: "C08CA01" for item in prescription.items}
    document = fhir.bundle(prescription, codes)
    encoded = fhir.encode(document)
    Bundle.model_validate_json(encoded)  # raises on anything R4 does not allow
    as_json = msgspec.json.decode(encoded)
    requests = [
        MedicationRequest.model_validate(entry["resource"])
        for entry in as_json["entry"]
        if entry["resource"]["resourceType"] == "MedicationRequest"
    ]
    return as_json, requests


@pytest.mark.parametrize("frequency", FREQUENCIES)
def test_every_frequency_is_a_valid_timing(frequency: Frequency) -> None:
    _, (request,) = validated(a_prescription([an_item(0, frequency=frequency)]))
    dosage = request.dosageInstruction[0]
    repeat = dosage.timing.repeat
    assert dosage.timing.code.text == frequency
    assert dosage.asNeededBoolean is (frequency == "prn")
    expected: dict[str, tuple[int, Decimal, str]] = {
        "qd": (1, Decimal(1), "d"),
        "bid": (2, Decimal(1), "d"),
        "tid": (3, Decimal(1), "d"),
        "qid": (4, Decimal(1), "d"),
        "q6h": (1, Decimal(6), "h"),
        "q8h": (1, Decimal(8), "h"),
        "q12h": (1, Decimal(12), "h"),
        "qn": (1, Decimal(1), "d"),
        "qod": (1, Decimal(2), "d"),
        "qw": (1, Decimal(1), "wk"),
    }
    if frequency in expected:
        assert (repeat.frequency, repeat.period, repeat.periodUnit) == expected[frequency]
        assert repeat.boundsDuration.value == 7 and repeat.boundsDuration.code == "d"
    elif frequency == "once":
        assert repeat.count == 1 and repeat.frequency is None
    else:  # prn: as needed, for the days given
        assert repeat.frequency is None and repeat.boundsDuration.value == 7
    if frequency == "qn":
        assert repeat.when == ["HS"]


def test_every_item_is_a_medication_request_of_one_group() -> None:
    items = [
        an_item(
            index,
            route=route,
            dose_unit=DOSE_UNITS[index % len(DOSE_UNITS)],
            quantity_unit=QUANTITY_UNITS[index % len(QUANTITY_UNITS)],
        )
        for index, route in enumerate(ROUTES)
    ]
    written = a_prescription(items)
    document, requests = validated(written)
    assert document["type"] == "collection"
    assert len(requests) == len(ROUTES)
    group = f"urn:uuid:{written.id}"
    patient = next(e for e in document["entry"] if e["resource"]["resourceType"] == "Patient")
    doctor = next(e for e in document["entry"] if e["resource"]["resourceType"] == "Practitioner")
    for index, request in enumerate(requests):
        assert request.status == "active" and request.intent == "order"
        assert request.groupIdentifier.value == group
        assert request.authoredOn.isoformat().startswith("2026-03-05T02:30")
        assert request.subject.reference == patient["fullUrl"]
        assert request.subject.display == "李四"
        assert request.requester.reference == doctor["fullUrl"]
        assert request.requester.display == "王医生"
        coding = request.medicationCodeableConcept.coding[0]
        assert (coding.system, coding.code) == ("http://www.whocc.no/atc", "C08CA01")
        dosage = request.dosageInstruction[0]
        route = ROUTES[index]
        if route in fhir.ROUTES:
            assert dosage.route.coding[0].system == "http://snomed.info/sct"
            assert dosage.route.coding[0].code == fhir.ROUTES[route][0]
        else:
            assert dosage.route.text
        dose = dosage.doseAndRate[0].doseQuantity
        assert dose.value == Decimal("0.5") and dose.system == "http://unitsofmeasure.org"
        assert dosage.patientInstruction == "早餐后服用"
        dispense = request.dispenseRequest
        assert dispense.quantity.value == 7
        assert dispense.expectedSupplyDuration.value == 7
        assert dispense.expectedSupplyDuration.code == "d"
        assert (
            dispense.validityPeriod.start.isoformat(),
            dispense.validityPeriod.end.isoformat(),
        ) == (
            "2026-03-05",
            "2026-03-07",
        )
    assert len({request.id for request in requests}) == len(requests)
    # The same prescription always exports the same ids.
    assert fhir.bundle(written, {i.drug.id: "C08CA01" for i in items}) == fhir.bundle(
        written, {i.drug.id: "C08CA01" for i in items}
    )


@pytest.mark.parametrize(
    ("standing", "status"),
    [
        ("awaiting_review", "active"),
        ("approved", "active"),
        ("dispensed", "completed"),
        ("rejected", "cancelled"),
        ("voided", "cancelled"),
        ("replaced", "cancelled"),
        ("expired", "stopped"),
    ],
)
def test_the_status_follows_the_standing(standing: Standing, status: str) -> None:
    _, (request,) = validated(a_prescription([an_item(0)], standing))
    assert request.status == status
    assert (request.statusReason is not None) is (status != "active" and status != "completed")


async def test_the_api_answers_fhir_json_to_the_prescriptions_readers(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    metformin = item(drug_id=METFORMIN, dose="0.5", dose_unit="g", frequency="bid", quantity="14")
    body = prescription(item(), metformin)
    written = await prescribe(app, visit, body)
    path = f"/api/prescriptions/{written['id']}/fhir"
    for reader in (visit.patient, visit.doctor):
        response = await call(app, "GET", path, reader)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/fhir+json")
        bundle = Bundle.model_validate_json(response.content)
        assert bundle.type == "collection"
    document = response.json()
    requests = [
        e["resource"]
        for e in document["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert [r["medicationCodeableConcept"]["coding"][0]["code"] for r in requests] == [
        "C08CA01",
        "A10BA02",
    ]
    assert {r["groupIdentifier"]["value"] for r in requests} == {f"urn:uuid:{written['id']}"}
    assert requests[1]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 0.5
    assert [str(r["medicationCodeableConcept"]["text"]).split()[0] for r in requests] == [
        "氨氯地平",
        "二甲双胍",
    ]
    assert AMLODIPINE != METFORMIN
    stranger = await ready_patient(app)
    assert (await call(app, "GET", path, stranger)).status_code == 404
