"""Prescriptions API: the consultation's doctor writes, corrects and voids; who takes part in
the consultation reads, and exports (FHIR R4, the printed prescription as PDF) (README.md
beside this file). Anyone else gets the 404 of a consultation, or a prescription, that does
not exist."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.openapi import answers, responds_with
from medmarket.pages.rendering import formatter, settings_of, translator
from medmarket.prescriptions import fhir
from medmarket.prescriptions.dependencies import provide_prescribing
from medmarket.prescriptions.pdf import prescription_pdf
from medmarket.prescriptions.schemas import (
    CorrectionIn,
    HealthSummaryOut,
    PrescriptionIn,
    PrescriptionOut,
    VoidIn,
)
from medmarket.prescriptions.service import Prescribing
from medmarket.prescriptions.sheet import sheet
from medmarket.signatures import SignedDocument

TAGS = ["prescriptions"]
PARTICIPANTS = allow("patient", "doctor")
DOCTORS = allow("doctor")


@post("/prescriptions", opt=DOCTORS, status_code=HTTP_201_CREATED)
async def write_prescription(
    consultation_id: FromPath[uuid.UUID],
    data: JSONBody[PrescriptionIn],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> PrescriptionOut:
    """Check and issue a prescription for the consultation's patient (422 with the findings
    when a safety rule blocks it or a warning has no reason; 409 outside the visit)."""
    return await prescribing.write(principal, consultation_id, data, context)


@get("/prescriptions")
async def list_prescriptions(
    consultation_id: FromPath[uuid.UUID],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
) -> list[PrescriptionOut]:
    """The consultation's prescriptions, voided and replaced ones too, oldest first."""
    return await prescribing.listing(principal, consultation_id)


# A read that answers 409 when the doctor may no longer prescribe for the visit.
@get("/health-summary", opt={**DOCTORS, **answers(409)})
async def health_summary(
    consultation_id: FromPath[uuid.UUID],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> HealthSummaryOut:
    """The patient's allergies, chronic conditions, current medication, age and sex, for the
    consultation's doctor while they may prescribe (every read is audited)."""
    return await prescribing.health_summary(principal, consultation_id, context)


@get("/")
async def read_prescription(
    prescription_id: FromPath[uuid.UUID],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
) -> PrescriptionOut:
    """The prescription as it was issued, and where it stands now."""
    return await prescribing.read(principal, prescription_id)


@get("/signed")
async def signed_prescription(
    prescription_id: FromPath[uuid.UUID],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
) -> SignedDocument:
    """The prescription as its doctor signed it: the canonical document, the Ed25519
    signature and the key's id. Verify it with POST /api/signatures/verify, ``medmarket
    verify-signature`` or any Ed25519 library (docs/signatures.md)."""
    return await prescribing.signed(principal, prescription_id)


@get("/fhir", opt=responds_with(fhir.FHIR_JSON))
async def prescription_fhir(
    prescription_id: FromPath[uuid.UUID],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
) -> Response[bytes]:
    """The prescription as an HL7 FHIR R4 Bundle: one MedicationRequest per item (the drug
    by its ATC code, the dosage, what is dispensed and for how long), with the Practitioner
    and the Patient."""
    bundle = await prescribing.fhir_bundle(principal, prescription_id)
    return Response(
        fhir.encode(bundle),
        media_type=fhir.FHIR_JSON,
        headers={"Cache-Control": "private, no-store"},
    )


@get("/pdf", opt=responds_with("application/pdf"))
async def prescription_pdf_file(
    request: Request[Any, Any, Any],
    prescription_id: FromPath[uuid.UUID],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
) -> Response[bytes]:
    """The printed prescription (处方笺) as an A5 PDF in the reader's language and time
    zone, with the QR code of its verification page."""
    prescription = await prescribing.read(principal, prescription_id)
    printed = sheet(
        prescription, translator(request), formatter(request), settings_of(request).base_url
    )
    # Drawing takes a few tens of milliseconds of CPU: not on the event loop.
    content = await asyncio.to_thread(prescription_pdf, printed, author=prescription.doctor.name)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="prescription-{prescription.id}.pdf"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@post("/versions", opt=DOCTORS, status_code=HTTP_201_CREATED)
async def correct_prescription(
    prescription_id: FromPath[uuid.UUID],
    data: JSONBody[CorrectionIn],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> PrescriptionOut:
    """Issue a corrected version, which voids this one (checked like a new prescription)."""
    return await prescribing.correct(principal, prescription_id, data, context)


@post("/void", opt=DOCTORS, status_code=HTTP_200_OK)
async def void_prescription(
    prescription_id: FromPath[uuid.UUID],
    data: JSONBody[VoidIn],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> PrescriptionOut:
    """Withdraw the prescription, with the reason: nothing may be dispensed on it."""
    return await prescribing.void(principal, prescription_id, data.reason, context)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            # A consultation's prescriptions, for its patient and doctors; only a doctor writes.
            Router(
                path="/consultations/{consultation_id:uuid}",
                opt=PARTICIPANTS,
                route_handlers=[write_prescription, list_prescriptions, health_summary],
            ),
            Router(
                path="/prescriptions/{prescription_id:uuid}",
                opt=PARTICIPANTS,
                route_handlers=[
                    read_prescription,
                    signed_prescription,
                    prescription_fhir,
                    prescription_pdf_file,
                    correct_prescription,
                    void_prescription,
                ],
            ),
        ],
    )
]
DEPENDENCIES = {"prescribing": Provide(provide_prescribing, sync_to_thread=False)}
