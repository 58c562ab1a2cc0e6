"""Doctors' onboarding API: the doctor's own application, operators' review and decisions,
hospital admins' view of their doctors. Who may see a doctor is decided in ``access``.
And, for anyone, doctors' public signing keys and the verification of what they signed
(``signing_keys``; docs/signatures.md)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from medmarket import files, signatures
from medmarket.accounts.guards import PUBLIC, allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.doctors import signing_keys
from medmarket.doctors.decisions import DoctorDecisions
from medmarket.doctors.schemas import (
    ApplicationIn,
    CheckRunOut,
    DoctorOut,
    DoctorPage,
    DoctorSigningKeysOut,
    DoctorStatus,
    DocumentOut,
    DocumentUpload,
    ReasonIn,
    RecheckIn,
    VerificationOut,
)
from medmarket.doctors.service import DoctorService
from medmarket.errors import InvalidInput
from medmarket.openapi import answers, responds_with
from medmarket.signatures import SignedDocument

TAGS = ["doctors"]
SIGNATURE_TAGS = ["signatures"]
# A signed prescription is a few kilobytes; nothing to verify is near this.
MAX_ENVELOPE_BYTES = 1024 * 1024
# The doctor's own application: 404 until it is saved.
DOCTOR = {**allow("doctor"), **answers(404)}
OPERATOR = allow("operator")
REVIEWERS = allow("operator", "hospital_admin")
ANY_CONCERNED = allow("doctor", "operator", "hospital_admin")


def provide_doctors(request: Request[Any, Any, Any]) -> DoctorService:
    return DoctorService(request.app.state.services)


def provide_decisions(request: Request[Any, Any, Any]) -> DoctorDecisions:
    return DoctorDecisions(request.app.state.services)


# -- the doctor's own application ------------------------------------------------------------
@get("/")
async def my_application(
    doctors: NamedDependency[DoctorService], principal: NamedDependency[Principal]
) -> DoctorOut:
    """The signed-in doctor's application: status, reason, checks, history, documents."""
    return await doctors.mine(principal)


@put("/", status_code=HTTP_200_OK)
async def save_application(
    data: JSONBody[ApplicationIn],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DoctorOut:
    """Create the application, or change it while it is a draft."""
    return await doctors.save_application(principal, data, context)


@post("/documents", status_code=HTTP_201_CREATED)
async def upload_document(
    data: MultipartBody[DocumentUpload],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DocumentOut:
    """Upload a licence scan, ID or certificate (PDF, JPEG or PNG, judged by content)."""
    return await doctors.add_document(principal, data, context)


@delete("/documents/{document_id:uuid}", status_code=HTTP_204_NO_CONTENT)
async def delete_document(
    document_id: FromPath[uuid.UUID],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> None:
    await doctors.delete_document(principal, document_id, context)


@post("/submit", status_code=HTTP_200_OK)
async def submit_application(
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DoctorOut:
    """Submit the draft; the hospital's systems are asked at once, and the answer shows the
    outcome (approved, or needs_review with each check's result)."""
    return await doctors.submit(principal, context)


@post("/revise", status_code=HTTP_200_OK)
async def revise_application(
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DoctorOut:
    """After a rejection: back to a draft, to correct and submit again."""
    return await doctors.revise(principal, context)


# -- reading applications ----------------------------------------------------------------------
@get("/", opt=REVIEWERS)
async def list_doctors(
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    status: FromQuery[DoctorStatus | None] = None,
    hospital_id: FromQuery[uuid.UUID | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
) -> DoctorPage:
    """Applications and doctors (hospital admins: of their own hospitals), newest change
    first; ``status=needs_review`` is the operators' review queue."""
    return await doctors.listing(
        principal, status=status, hospital_id=hospital_id, cursor=cursor, limit=limit
    )


@get("/{doctor_id:uuid}", opt=ANY_CONCERNED)
async def show_doctor(
    doctor_id: FromPath[uuid.UUID],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
) -> DoctorOut:
    return await doctors.detail(principal, doctor_id)


@get("/{doctor_id:uuid}/checks", opt=ANY_CONCERNED)
async def list_checks(
    doctor_id: FromPath[uuid.UUID],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
) -> list[CheckRunOut]:
    """Every check run (application, re-checks, daily re-verification), newest first,
    with the hospital's evidence."""
    return await doctors.check_runs(principal, doctor_id)


@get(
    "/{doctor_id:uuid}/documents/{document_id:uuid}",
    opt={**ANY_CONCERNED, **responds_with(*files.ACCEPTED)},
)
async def download_document(
    doctor_id: FromPath[uuid.UUID],
    document_id: FromPath[uuid.UUID],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Response[bytes]:
    """The document itself, as an attachment that no browser will render as a page."""
    content, row = await doctors.document_file(principal, doctor_id, document_id, context)
    return files.served(
        content,
        row["content_type"],
        files.disposition(row["kind"], row["id"], row["content_type"], row["original_name"]),
    )


# -- decisions ---------------------------------------------------------------------------------
async def _decided(doctors: DoctorService, principal: Principal, doctor_id: uuid.UUID) -> DoctorOut:
    return await doctors.detail(principal, doctor_id)


@post("/{doctor_id:uuid}/approve", status_code=HTTP_200_OK)
async def approve_doctor(
    doctor_id: FromPath[uuid.UUID],
    data: JSONBody[ReasonIn],
    decisions: NamedDependency[DoctorDecisions],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DoctorOut:
    """Approve an application the checks could not settle; the doctor sees the reason."""
    await decisions.approve(principal, doctor_id, data.reason, context)
    return await _decided(doctors, principal, doctor_id)


@post("/{doctor_id:uuid}/reject", status_code=HTTP_200_OK)
async def reject_doctor(
    doctor_id: FromPath[uuid.UUID],
    data: JSONBody[ReasonIn],
    decisions: NamedDependency[DoctorDecisions],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DoctorOut:
    """Reject an application; the doctor sees the reason and may revise and apply again."""
    await decisions.reject(principal, doctor_id, data.reason, context)
    return await _decided(doctors, principal, doctor_id)


@post("/{doctor_id:uuid}/recheck", status_code=HTTP_200_OK)
async def recheck_doctor(
    doctor_id: FromPath[uuid.UUID],
    data: JSONBody[RecheckIn],
    decisions: NamedDependency[DoctorDecisions],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DoctorOut:
    """Run the checks again (the hospital was down, or corrected its records)."""
    await decisions.recheck(principal, doctor_id, data.note, context)
    return await _decided(doctors, principal, doctor_id)


@post("/{doctor_id:uuid}/suspend", status_code=HTTP_200_OK)
async def suspend_doctor(
    doctor_id: FromPath[uuid.UUID],
    data: JSONBody[ReasonIn],
    decisions: NamedDependency[DoctorDecisions],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DoctorOut:
    """Take an approved doctor off the marketplace; their future bookings are flagged."""
    await decisions.suspend(principal, doctor_id, data.reason, context)
    return await _decided(doctors, principal, doctor_id)


@post("/{doctor_id:uuid}/reinstate", status_code=HTTP_200_OK)
async def reinstate_doctor(
    doctor_id: FromPath[uuid.UUID],
    data: JSONBody[ReasonIn],
    decisions: NamedDependency[DoctorDecisions],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DoctorOut:
    """Put a suspended doctor back, once the hospital confirms every credential again."""
    await decisions.reinstate(principal, doctor_id, data.reason, context)
    return await _decided(doctors, principal, doctor_id)


@post("/{doctor_id:uuid}/end-affiliation", opt=REVIEWERS, status_code=HTTP_200_OK)
async def end_affiliation(
    doctor_id: FromPath[uuid.UUID],
    data: JSONBody[ReasonIn],
    decisions: NamedDependency[DoctorDecisions],
    doctors: NamedDependency[DoctorService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DoctorOut:
    """The hospital ends the doctor's affiliation: suspended at once, hospital told."""
    await decisions.end_affiliation(principal, doctor_id, data.reason, context)
    return await _decided(doctors, principal, doctor_id)


# -- signing keys and signatures: public, so that anyone can check what a doctor signed --------
@get("/doctors/{doctor_id:uuid}/signing-keys")
async def doctor_signing_keys(
    request: Request[Any, Any, Any], doctor_id: FromPath[uuid.UUID]
) -> DoctorSigningKeysOut:
    """Every signing key the doctor has had, oldest first, retired ones too (what they
    signed stays valid): its key id, and the Ed25519 public key as base64url of its 32 raw
    bytes and as PEM. 404 for a doctor who was never approved."""
    return await signing_keys.public_keys(request.app.state.services.db.pool, doctor_id)


@post("/signatures/verify", status_code=HTTP_200_OK, request_max_body_size=MAX_ENVELOPE_BYTES)
async def verify_signature(
    request: Request[Any, Any, Any], data: JSONBody[SignedDocument]
) -> VerificationOut:
    """Whether a signed document (the envelope, as docs/signatures.md describes it) is what
    a doctor signed: ``valid`` with the doctor, or the ``reason`` it is not (``unknown-key``,
    ``bad-signature``). An envelope that cannot be read (a float in the document, a member
    name twice in one object, a signature that is not base64url of 64 bytes) is a 422
    naming the field."""
    # ``data`` is litestar's reading, which documents the body and refuses its wrong shapes;
    # it is read again, strictly: a member name twice in one object reads as either value.
    try:
        envelope = signatures.decode(await request.body())
    except signatures.NotCanonical as exc:
        raise InvalidInput(f"{exc.field}: {exc.message}", field=exc.field) from None
    return await signing_keys.verify_signed(request.app.state.services.db.pool, envelope)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            Router(
                path="/doctor/application",
                opt=DOCTOR,
                route_handlers=[
                    my_application,
                    save_application,
                    upload_document,
                    delete_document,
                    submit_application,
                    revise_application,
                ],
            ),
            # Operators decide; hospital admins and the doctor see what concerns them.
            Router(
                path="/onboarding/doctors",
                opt=OPERATOR,
                route_handlers=[
                    list_doctors,
                    show_doctor,
                    list_checks,
                    download_document,
                    approve_doctor,
                    reject_doctor,
                    recheck_doctor,
                    suspend_doctor,
                    reinstate_doctor,
                    end_affiliation,
                ],
            ),
        ],
    ),
    # Anyone checks what a doctor signed (see above).
    Router(
        path="/api",
        opt=PUBLIC,
        tags=SIGNATURE_TAGS,
        route_handlers=[doctor_signing_keys, verify_signature],
    ),
]
DEPENDENCIES = {
    "doctors": Provide(provide_doctors, sync_to_thread=False),
    "decisions": Provide(provide_decisions, sync_to_thread=False),
}
