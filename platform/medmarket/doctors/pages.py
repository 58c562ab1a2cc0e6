"""Doctors' onboarding pages: the doctor's application (the form, documents uploaded with
progress, submitting, revising), its status with the checks' evidence and its history; and
the review pages where operators decide and hospital admins see their doctors.

Thin handlers over ``DoctorService`` and ``DoctorDecisions``; what a viewer may do next is
the service's ``DoctorOut.actions``, so the buttons shown are exactly those allowed.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.doctors.schemas import ApplicationIn, DoctorOut, DocumentUpload
from medmarket.doctors.service import REQUIRED_DOCUMENTS, DoctorService
from medmarket.errors import FieldError, InvalidInput, NotFound, Problem
from medmarket.hospitals.service import HospitalService
from medmarket.pages.forms import FormState, parse_form
from medmarket.pages.rendering import page, see_other, translator

DOCTOR = allow("doctor")
APPLICATION_FIELDS = (
    "hospital_id",
    "full_name",
    "licence_number",
    "title",
    "department",
    "specialties",
    "languages",
    "bio",
    "time_zone",
)
TITLES = ("主任医师", "副主任医师", "主治医师", "住院医师")
LANGUAGES = ("zh", "yue", "en", "ug", "bo", "mn", "ko", "ja")
DOCUMENT_KINDS = ("licence", "identity", "qualification", "title_certificate", "other")
Text = Annotated[str | None, QueryParameter(max_length=200)]
_LIST_SEPARATORS = re.compile(r"[,，、;；\n]+")


def split_list(text: str) -> list[str]:
    """ "心内科、高血压, 冠心病" → the items, as people separate them in either language."""
    return [item.strip() for item in _LIST_SEPARATORS.split(text) if item.strip()]


def application_values(doctor: DoctorOut | None, principal: Principal) -> dict[str, str]:
    if doctor is None:
        return {
            "full_name": principal.display_name,
            "languages": "zh",
            "time_zone": "Asia/Shanghai",
        }
    return {
        "hospital_id": str(doctor.hospital.id),
        "full_name": doctor.full_name,
        "licence_number": doctor.licence_number,
        "title": doctor.title,
        "department": doctor.department or "",
        "specialties": "、".join(doctor.specialties),
        "languages": " ".join(doctor.languages),
        "bio": doctor.bio,
        "time_zone": doctor.time_zone,
    }


async def _own_application(doctors: DoctorService, principal: Principal) -> DoctorOut | None:
    try:
        return await doctors.mine(principal)
    except NotFound:
        return None


async def _application_page(
    request: Request[Any, Any, Any],
    doctors: DoctorService,
    hospitals: HospitalService,
    principal: Principal,
    *,
    form: FormState | None = None,
    upload_form: FormState | None = None,
    submit_form: FormState | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    doctor = await _own_application(doctors, principal)
    runs = await doctors.check_runs(principal, doctor.id) if doctor else []
    uploaded = {document.kind for document in doctor.documents} if doctor else set()
    return page(
        request,
        "doctor/application.html",
        status=status,
        doctor=doctor,
        runs=runs,
        form=form or FormState(values=application_values(doctor, principal)),
        upload_form=upload_form or FormState(),
        submit_form=submit_form or FormState(),
        hospitals=await hospitals.directory(),
        titles=TITLES,
        languages=LANGUAGES,
        document_kinds=DOCUMENT_KINDS,
        missing_documents=[kind for kind in REQUIRED_DOCUMENTS if kind not in uploaded],
        max_megabytes=request.app.state.settings.document_max_bytes // (1024 * 1024),
        notice=notice,
    )


@get("/")
async def application(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    doctors: NamedDependency[DoctorService],
    hospitals: NamedDependency[HospitalService],
    done: Text = None,
) -> Template:
    notice = done if done in ("saved", "uploaded", "deleted", "submitted", "revised") else None
    return await _application_page(request, doctors, hospitals, principal, notice=notice)


@post("/")
async def save_application(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    doctors: NamedDependency[DoctorService],
    hospitals: NamedDependency[HospitalService],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in APPLICATION_FIELDS}
    chosen_languages = [str(code) for code in form.getall("languages") if str(code).strip()]
    values["languages"] = " ".join(chosen_languages)
    body = {
        **values,
        "department": values["department"] or None,
        "specialties": split_list(values["specialties"]),
        "languages": chosen_languages,
        "time_zone": values["time_zone"] or "Asia/Shanghai",
    }
    try:
        data = parse_form(
            ApplicationIn,
            body,
            ("hospital_id", "full_name", "licence_number", "title", "specialties", "languages"),
            typed=values,
        )
        await doctors.save_application(principal, data, context)
    except Problem as problem:
        state = FormState.from_problem(problem, translator(request), values, APPLICATION_FIELDS)
        return await _application_page(
            request, doctors, hospitals, principal, form=state, status=problem.status
        )
    return see_other("/doctor/application?done=saved")


@post("/documents")
async def upload_document(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    doctors: NamedDependency[DoctorService],
    hospitals: NamedDependency[HospitalService],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    """Without script: a plain multipart form. With it, static/js/upload.js sends the same
    form to the API with a progress bar, and this page is only reloaded to show the list."""
    form = await request.form()
    kind = str(form.get("kind") or "")
    file = form.get("file")
    try:
        errors = []
        if kind not in DOCUMENT_KINDS:
            errors.append(FieldError(field="kind", message="choose a kind", code="required"))
        if not isinstance(file, UploadFile) or not file.filename:
            errors.append(FieldError(field="file", message="choose a file", code="required"))
        if errors:
            raise InvalidInput("choose a file and its kind", errors=errors)
        assert isinstance(file, UploadFile)
        await doctors.add_document(principal, DocumentUpload(file=file, kind=kind), context)  # type: ignore[arg-type]
    except Problem as problem:
        state = FormState.from_problem(
            problem,
            translator(request),
            {"kind": kind},
            ("kind", "file"),
            params={"megabytes": request.app.state.settings.document_max_bytes // (1024 * 1024)},
        )
        return await _application_page(
            request, doctors, hospitals, principal, upload_form=state, status=problem.status
        )
    return see_other("/doctor/application?done=uploaded#documents")


@post("/documents/{document_id:uuid}/delete")
async def delete_document(
    document_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    doctors: NamedDependency[DoctorService],
    context: NamedDependency[AuditContext],
) -> Redirect:
    await doctors.delete_document(principal, document_id, context)
    return see_other("/doctor/application?done=deleted#documents")


@post("/submit")
async def submit_application(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    doctors: NamedDependency[DoctorService],
    hospitals: NamedDependency[HospitalService],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    try:
        await doctors.submit(principal, context)
    except Problem as problem:
        state = FormState.from_problem(problem, translator(request), {}, ("documents",))
        return await _application_page(
            request, doctors, hospitals, principal, submit_form=state, status=problem.status
        )
    return see_other("/doctor/application?done=submitted")


@post("/revise")
async def revise_application(
    principal: NamedDependency[Principal],
    doctors: NamedDependency[DoctorService],
    context: NamedDependency[AuditContext],
) -> Redirect:
    await doctors.revise(principal, context)
    return see_other("/doctor/application?done=revised")


ROUTES = [
    Router(
        path="/doctor/application",
        opt=DOCTOR,
        route_handlers=[
            application,
            save_application,
            upload_document,
            delete_document,
            submit_application,
            revise_application,
        ],
        include_in_schema=False,
    )
]
