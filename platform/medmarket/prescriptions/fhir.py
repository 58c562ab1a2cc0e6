"""A prescription as HL7 FHIR R4: a ``collection`` Bundle of one MedicationRequest per item,
with the Practitioner who wrote it and the Patient it is for.

Each MedicationRequest names its drug by the WHO ATC code (``http://www.whocc.no/atc``,
the catalog's code for that drug), says how it is taken (``dosageInstruction``: the
timing from the frequency, the route coded in SNOMED CT, the dose), how much is handed
over and for how long (``dispenseRequest``: the quantity, the supply in days, the days the
prescription holds on), who wrote it (``requester``), for whom (``subject``), when
(``authoredOn``), and which prescription it belongs to (``groupIdentifier``: the
prescription's id, shared by its items). Its ``status`` follows the prescription's
standing. Pure: what the service read in, a dict out (``tests/test_fhir.py`` validates it
with ``fhir.resources``, every frequency and route).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import msgspec

from medmarket.prescriptions.document import PrescribedItem
from medmarket.prescriptions.model import Frequency
from medmarket.prescriptions.schemas import PrescriptionOut
from medmarket.prescriptions.states import Standing

FHIR_JSON: Final = "application/fhir+json"
ATC: Final = "http://www.whocc.no/atc"
SNOMED: Final = "http://snomed.info/sct"
UCUM: Final = "http://unitsofmeasure.org"
URI: Final = "urn:ietf:rfc:3986"  # identifiers that are URIs: urn:uuid:<id>
TIMING_ABBREVIATION: Final = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
# Items of one prescription get ids of their own, the same on every export.
_ITEM_IDS: Final = uuid.UUID("5b0f6a57-5c1e-4b55-9d39-0d8e1f0c6f21")

# FHIR's medicationrequest-status for each standing. An issued prescription the pharmacist
# has not reviewed yet is in force (active); one withdrawn before anything was handed over
# (rejected, voided, replaced by a correction) is cancelled; one that lapsed unused stopped.
STATUS: Final[Mapping[Standing, str]] = {
    "awaiting_review": "active",
    "approved": "active",
    "dispensed": "completed",
    "rejected": "cancelled",
    "voided": "cancelled",
    "replaced": "cancelled",
    "expired": "stopped",
}

# SNOMED CT's route of administration for each of the catalog's routes. Injections labelled
# for several routes ("parenteral") and local infiltration have no one code: text only.
ROUTES: Final[Mapping[str, tuple[str, str]]] = {
    "oral": ("26643006", "Oral route"),
    "sublingual": ("37839007", "Sublingual route"),
    "inhalation": ("447694001", "Respiratory tract route"),
    "nasal": ("46713006", "Nasal route"),
    "ophthalmic": ("54485002", "Ophthalmic route"),
    "otic": ("10547007", "Otic route"),
    "cutaneous": ("6064005", "Topical route"),
    "transdermal": ("45890007", "Transdermal route"),
    "rectal": ("37161004", "Per rectum"),
    "vaginal": ("16857009", "Per vagina"),
    "intravenous": ("47625008", "Intravenous route"),
    "intramuscular": ("78421000", "Intramuscular route"),
    "subcutaneous": ("34206005", "Subcutaneous route"),
}
ROUTE_TEXT: Final[Mapping[str, str]] = {
    "parenteral": "parenteral (intravenous, intramuscular or subcutaneous)",
    "local_injection": "local injection (infiltration, nerve block)",
}

# UCUM codes of the units a dose or a quantity is given in; counted units are UCUM
# annotations ({tablet}).
_UCUM: Final[Mapping[str, str]] = {"μg": "ug", "IU": "[iU]", "U": "[U]"}
_MEASURED: Final = frozenset({"mg", "g", "μg", "IU", "U", "mL"})


def _timing(frequency: Frequency, duration_days: int) -> dict[str, Any]:
    """FHIR Timing for a frequency, bounded by the days it is taken for."""
    repeat: dict[str, Any] = {
        "boundsDuration": _days(duration_days),
    }
    abbreviation: str | None = None
    match frequency:
        case "qd":
            repeat |= {"frequency": 1, "period": 1, "periodUnit": "d"}
            abbreviation = "QD"
        case "bid":
            repeat |= {"frequency": 2, "period": 1, "periodUnit": "d"}
            abbreviation = "BID"
        case "tid":
            repeat |= {"frequency": 3, "period": 1, "periodUnit": "d"}
            abbreviation = "TID"
        case "qid":
            repeat |= {"frequency": 4, "period": 1, "periodUnit": "d"}
            abbreviation = "QID"
        case "q6h" | "q8h" | "q12h":
            hours = int(frequency[1:-1])
            repeat |= {"frequency": 1, "period": hours, "periodUnit": "h"}
            abbreviation = None if hours == 12 else f"Q{hours}H"
        case "qn":
            repeat |= {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}
        case "qod":
            repeat |= {"frequency": 1, "period": 2, "periodUnit": "d"}
            abbreviation = "QOD"
        case "qw":
            repeat |= {"frequency": 1, "period": 1, "periodUnit": "wk"}
            abbreviation = "WK"
        case "prn":
            pass  # when needed: asNeeded says so; the instructions say how often at most
        case "once":
            repeat = {"count": 1}
    code: dict[str, Any] = {"text": frequency}
    if abbreviation:
        code["coding"] = [{"system": TIMING_ABBREVIATION, "code": abbreviation}]
    return {"repeat": repeat, "code": code}


def _days(days: int) -> dict[str, Any]:
    return {"value": days, "unit": "d", "system": UCUM, "code": "d"}


def _quantity(amount: str, unit: str) -> dict[str, Any]:
    code = _UCUM.get(unit, unit) if unit in _MEASURED else "{" + unit + "}"
    return {"value": Decimal(amount), "unit": unit, "system": UCUM, "code": code}


def _route(route: str) -> dict[str, Any]:
    if route in ROUTES:
        code, display = ROUTES[route]
        return {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": route}
    return {"text": ROUTE_TEXT.get(route, route)}


def _urn(value: uuid.UUID) -> str:
    return f"urn:uuid:{value}"


def item_id(prescription_id: uuid.UUID, index: int) -> uuid.UUID:
    """The MedicationRequest id of the prescription's item ``index``."""
    return uuid.uuid5(_ITEM_IDS, f"{prescription_id}/{index}")


def medication_request(
    prescription: PrescriptionOut, index: int, item: PrescribedItem, atc_code: str
) -> dict[str, Any]:
    drug = item.drug
    request_id = item_id(prescription.id, index)
    standing = prescription.standing
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": str(request_id),
        "identifier": [{"system": URI, "value": _urn(request_id)}],
        "status": STATUS[standing],
        "intent": "order",
        "category": [{"coding": [{"system": CATEGORY, "code": "outpatient"}]}],
        "medicationCodeableConcept": {
            "coding": [{"system": ATC, "code": atc_code, "display": drug.generic_name_en}],
            "text": f"{drug.generic_name_zh} {drug.strength} {drug.unit}",
        },
        "subject": {
            "reference": _urn(prescription.patient.id),
            "display": prescription.patient.name,
        },
        "authoredOn": prescription.written_at.astimezone(dt.UTC).isoformat(),
        "requester": {
            "reference": _urn(prescription.doctor.id),
            "display": prescription.doctor.name,
        },
        "reasonCode": [{"text": prescription.diagnosis}],
        "groupIdentifier": {"system": URI, "value": _urn(prescription.id)},
        "dosageInstruction": [
            {
                "sequence": 1,
                "text": f"{item.dose} {item.dose_unit} {item.route} {item.frequency} "
                f"× {item.duration_days} d",
                **({"patientInstruction": item.instructions} if item.instructions else {}),
                "timing": _timing(item.frequency, item.duration_days),
                "asNeededBoolean": item.frequency == "prn",
                "route": _route(item.route),
                "doseAndRate": [{"doseQuantity": _quantity(item.dose, item.dose_unit)}],
            }
        ],
        "dispenseRequest": {
            "validityPeriod": {
                "start": prescription.valid_from.isoformat(),
                "end": prescription.valid_until.isoformat(),
            },
            "quantity": _quantity(item.quantity, item.quantity_unit),
            "expectedSupplyDuration": _days(item.duration_days),
        },
    }
    if standing in ("voided", "replaced", "rejected", "expired"):
        resource["statusReason"] = {"text": prescription.void_reason or standing}
    return resource


def practitioner(prescription: PrescriptionOut) -> dict[str, Any]:
    doctor = prescription.doctor
    return {
        "resourceType": "Practitioner",
        "id": str(doctor.id),
        "identifier": [{"value": doctor.licence_number}],  # 医师执业证书编码
        "name": [{"text": doctor.name}],
        "qualification": [{"code": {"text": doctor.title}}],
    }


def patient(prescription: PrescriptionOut) -> dict[str, Any]:
    person = prescription.patient
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(person.id),
        "name": [{"text": person.name}],
        "birthDate": person.date_of_birth.isoformat(),
    }
    if person.sex is not None:
        resource["gender"] = person.sex
    return resource


def bundle(prescription: PrescriptionOut, atc_codes: Mapping[uuid.UUID, str]) -> dict[str, Any]:
    """The prescription as a FHIR R4 Bundle (``atc_codes``: the catalog's code of each drug)."""
    resources = [
        *(
            medication_request(prescription, index, item, atc_codes[item.drug.id])
            for index, item in enumerate(prescription.items)
        ),
        practitioner(prescription),
        patient(prescription),
    ]
    # The doctor's signature is not in the bundle: it covers the canonical document, not
    # these resources, and travels with it (GET /api/prescriptions/{id}/signed). A
    # Provenance carrying it is for when a receiving system asks for one.
    return {
        "resourceType": "Bundle",
        "id": str(prescription.id),
        "identifier": {"system": URI, "value": _urn(prescription.id)},
        "type": "collection",
        "timestamp": prescription.written_at.astimezone(dt.UTC).isoformat(),
        "entry": [
            {"fullUrl": _urn(uuid.UUID(resource["id"])), "resource": resource}
            for resource in resources
        ],
    }


# FHIR's decimals are JSON numbers: "0.5" as 0.5, never a string.
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def encode(document: Mapping[str, Any]) -> bytes:
    return _ENCODER.encode(document)
