"""A patient's health record page, for the account holder and each family member: allergies,
chronic conditions and current medication, and the documents of earlier diagnoses (listed,
and uploaded with a progress bar by ``static/js/upload.js``, or as a plain form without it).

Health data needs the account's consent first: without it the page sends the patient to the
consent page and back. Thin handlers over ``Patients`` and ``PatientDocuments``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import FieldError, InvalidInput, Problem
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, translator
from medmarket.patients.documents import (
    MAX_BYTES,
    Kind,
    PatientDocuments,
    PatientDocumentUpload,
)
from medmarket.patients.schemas import HealthProfile, HealthProfileOut
from medmarket.patients.service import ConsentRequired, Patients

PATIENT = allow("patient")
HEALTH_FIELDS = ("allergies", "chronic_conditions", "current_medications")
DOCUMENT_FIELDS = ("kind", "institution", "issued_on", "title", "file")
DOCUMENT_KINDS: tuple[str, ...] = get_args(Kind)
MAX_MEGABYTES = MAX_BYTES // (1024 * 1024)
NOTICES = ("profile", "uploaded")
Text = Annotated[str | None, QueryParameter(max_length=100)]


def health_path(patient_id: uuid.UUID) -> str:
    return f"/family/{patient_id}/health"


def _to_consent(patient_id: uuid.UUID) -> Redirect:
    return see_other(f"/profile/consent?{urlencode({'next': health_path(patient_id)})}")


def lines_of(text: str) -> list[str]:
    """One item per line, as the boxes ask; blank lines dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def profile_values(profile: HealthProfileOut) -> dict[str, str]:
    return {name: "\n".join(getattr(profile, name)) for name in HEALTH_FIELDS}


async def _health_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    patient_id: uuid.UUID,
    patients: Patients,
    patient_documents: PatientDocuments,
    *,
    form: FormState | None = None,
    upload_form: FormState | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    patient = await patients.patient(principal, patient_id)  # the same 404 for strangers
    profile = await patients.health_profile(principal, patient_id)
    profile_form = form or FormState(values=profile_values(profile))
    upload_form = upload_form or FormState(values={"kind": "diagnosis"})
    return page(
        request,
        "patient/health.html",
        status=status,
        patient=patient,
        profile=profile,
        documents=await patient_documents.list(principal, patient_id),
        # ``form`` is the one the layout looks at ("Error: " in the title).
        form=upload_form if upload_form.has_errors else profile_form,
        profile_form=profile_form,
        upload_form=upload_form,
        document_kinds=DOCUMENT_KINDS,
        max_megabytes=MAX_MEGABYTES,
        notice=notice,
    )


@get("/health")
async def health(
    request: Request[Any, Any, Any],
    patient_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    patient_documents: NamedDependency[PatientDocuments],
    saved: Text = None,
) -> Template | Redirect:
    await patients.patient(principal, patient_id)  # a stranger's patient: 404, not a redirect
    if (await patients.mine(principal)).consent is None:
        return _to_consent(patient_id)
    notice = saved if saved in NOTICES else None
    return await _health_page(
        request, principal, patient_id, patients, patient_documents, notice=notice
    )


@post("/health")
async def save_health(
    request: Request[Any, Any, Any],
    patient_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    patient_documents: NamedDependency[PatientDocuments],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "") for name in HEALTH_FIELDS}
    try:
        profile = parse_form(HealthProfile, {name: lines_of(values[name]) for name in values})
        await patients.set_health_profile(principal, patient_id, profile, context)
    except ConsentRequired:
        return _to_consent(patient_id)
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values, HEALTH_FIELDS)
        return await _health_page(
            request,
            principal,
            patient_id,
            patients,
            patient_documents,
            form=form,
            status=problem.status,
        )
    return see_other(health_path(patient_id) + "?saved=profile")


@post("/documents")
async def upload_document(
    request: Request[Any, Any, Any],
    patient_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    patient_documents: NamedDependency[PatientDocuments],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    """Without script: a plain multipart form. With it, static/js/upload.js sends the same
    form to the API with a progress bar, and this page is only reloaded to show the list."""
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in DOCUMENT_FIELDS[:-1]}
    file = form.get("file")
    try:
        # Every empty field named at once; the service then judges what was given.
        missing = [name for name, value in values.items() if not value]
        if not isinstance(file, UploadFile) or not file.filename:
            missing.append("file")
        if missing:
            raise InvalidInput(
                "fill in the required fields",
                errors=[
                    FieldError(field=name, message="required", code="required") for name in missing
                ],
            )
        if values["kind"] not in DOCUMENT_KINDS:
            raise InvalidInput("choose what the document is", field="kind")
        assert isinstance(file, UploadFile)
        upload = PatientDocumentUpload(
            file=file,
            kind=values["kind"],  # type: ignore[arg-type]
            institution=values["institution"],
            issued_on=values["issued_on"],
            title=values["title"],
        )
        await patient_documents.upload(principal, patient_id, upload, context)
    except ConsentRequired:
        return _to_consent(patient_id)
    except Problem as problem:
        state = FormState.from_problem(
            problem,
            translator(request),
            values,
            DOCUMENT_FIELDS,
            params={"megabytes": MAX_MEGABYTES},
        )
        return await _health_page(
            request,
            principal,
            patient_id,
            patients,
            patient_documents,
            upload_form=state,
            status=problem.status,
        )
    return see_other(health_path(patient_id) + "?saved=uploaded#documents")


ROUTES = [
    Router(
        path="/family/{patient_id:uuid}",
        opt=PATIENT,
        route_handlers=[health, save_health, upload_document],
        include_in_schema=False,
    )
]
