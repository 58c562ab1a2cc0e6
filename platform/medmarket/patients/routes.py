"""Patients API: the account holder's details, consent, family members, health profiles."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, MultipartBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from medmarket import files
from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.openapi import responds_with
from medmarket.patients.documents import (
    PatientDocumentOut,
    PatientDocuments,
    PatientDocumentUpload,
)
from medmarket.patients.schemas import (
    ConsentIn,
    ConsentOut,
    FamilyMemberIn,
    HealthProfile,
    HealthProfileOut,
    MyPatientsOut,
    PatientDetails,
    PatientOut,
)
from medmarket.patients.service import Patients

PATIENT = allow("patient")
TAGS = ["patients"]


def provide_patients(request: Request[Any, Any, Any]) -> Patients:
    return Patients(request.app.state.services.db)


def provide_patient_documents(request: Request[Any, Any, Any]) -> PatientDocuments:
    services = request.app.state.services
    return PatientDocuments(services.db, services.settings.data_path)


@get("/me")
async def my_patients(
    principal: NamedDependency[Principal], patients: NamedDependency[Patients]
) -> MyPatientsOut:
    """The account holder, their family members and their consent."""
    return await patients.mine(principal)


@put("/me")
async def set_my_details(
    data: JSONBody[PatientDetails],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> PatientOut:
    """Real name, phone and date of birth of the account holder."""
    return await patients.set_details(principal, data, context)


@post("/me/consent", status_code=HTTP_201_CREATED)
async def grant_consent(
    data: JSONBody[ConsentIn],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> ConsentOut:
    """Agree to the processing of health data (the current policy version)."""
    return await patients.grant_consent(principal, data, context)


@delete("/me/consent", status_code=HTTP_204_NO_CONTENT)
async def withdraw_consent(
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> None:
    """Withdraw consent: no further health data is accepted until it is given again."""
    await patients.withdraw_consent(principal, context)


@post("/me/family", status_code=HTTP_201_CREATED)
async def add_family_member(
    data: JSONBody[FamilyMemberIn],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> PatientOut:
    """Someone the account holder books for (a child, a parent...)."""
    return await patients.add_family_member(principal, data, context)


@get("/{patient_id:uuid}")
async def get_patient(
    patient_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
) -> PatientOut:
    return await patients.patient(principal, patient_id)


@delete("/{patient_id:uuid}", status_code=HTTP_204_NO_CONTENT)
async def remove_family_member(
    patient_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> None:
    await patients.remove_family_member(principal, patient_id, context)


@get("/{patient_id:uuid}/health")
async def get_health_profile(
    patient_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
) -> HealthProfileOut:
    return await patients.health_profile(principal, patient_id)


@put("/{patient_id:uuid}/health")
async def set_health_profile(
    patient_id: FromPath[uuid.UUID],
    data: JSONBody[HealthProfile],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> HealthProfileOut:
    """Allergies, chronic conditions, current medication. Needs the account's consent."""
    return await patients.set_health_profile(principal, patient_id, data, context)


@post("/", status_code=HTTP_201_CREATED)
async def upload_document(
    patient_id: FromPath[uuid.UUID],
    data: MultipartBody[PatientDocumentUpload],
    principal: NamedDependency[Principal],
    patient_documents: NamedDependency[PatientDocuments],
    context: NamedDependency[AuditContext],
) -> PatientDocumentOut:
    """An earlier diagnosis, report or image (PDF, JPEG or PNG, judged by its content)."""
    return await patient_documents.upload(principal, patient_id, data, context)


@get("/")
async def list_documents(
    patient_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patient_documents: NamedDependency[PatientDocuments],
) -> list[PatientDocumentOut]:
    return await patient_documents.list(principal, patient_id)


@get("/", opt={**allow("patient", "doctor"), **responds_with(*files.ACCEPTED)})
async def download_document(
    document_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patient_documents: NamedDependency[PatientDocuments],
    context: NamedDependency[AuditContext],
) -> Response[bytes]:
    """The file, for the patient's account or the doctor of a visit that cites it."""
    document, content = await patient_documents.content(principal, document_id, context)
    return Response(
        content,
        media_type=document.content_type,
        headers={
            "Content-Disposition": files.disposition(
                document.kind, document.id, document.content_type, document.original_name
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@delete("/", status_code=HTTP_204_NO_CONTENT)
async def remove_document(
    document_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patient_documents: NamedDependency[PatientDocuments],
    context: NamedDependency[AuditContext],
) -> None:
    await patient_documents.remove(principal, document_id, context)


ROUTES = [
    Router(
        path="/api",
        opt=PATIENT,
        tags=TAGS,
        route_handlers=[
            Router(
                path="/patients/{patient_id:uuid}/documents",
                route_handlers=[upload_document, list_documents],
            ),
            Router(
                path="/patient-documents/{document_id:uuid}",
                route_handlers=[download_document, remove_document],
            ),
            Router(
                path="/patients",
                route_handlers=[
                    my_patients,
                    set_my_details,
                    grant_consent,
                    withdraw_consent,
                    add_family_member,
                    get_patient,
                    remove_family_member,
                    get_health_profile,
                    set_health_profile,
                ],
            ),
        ],
    )
]
DEPENDENCIES = {
    "patients": Provide(provide_patients, sync_to_thread=False),
    "patient_documents": Provide(provide_patient_documents, sync_to_thread=False),
}
