"""Consultations API for participants (the booking's patient account, its doctor, invited
colleagues) and operators (the trace). See README.md beside this file for how a call page
uses it. Who takes part is decided in ``access``; everyone else gets the 404 of a
consultation that does not exist."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import Response, Router, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.consults.dependencies import ConsultationServices
from medmarket.consults.schemas import (
    AttachmentUpload,
    ChatRequest,
    ColleagueOut,
    ConsultationOut,
    ConsultationTrace,
    EndRequest,
    Entered,
    MessageOut,
    MessagePage,
    NotesOut,
    NotesRequest,
    NoteVersion,
    Status,
    VideoChoice,
)
from medmarket.consults.trace import consultation_trace
from medmarket.files import ACCEPTED, disposition, served
from medmarket.openapi import responds_with

TAGS = ["consultations"]
PARTICIPANTS = allow("patient", "doctor")
DOCTORS = allow("doctor")


# -- the consultation -------------------------------------------------------------------------
@get("/")
async def list_consultations(
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    booking_id: FromQuery[uuid.UUID | None] = None,
    starts_from: Annotated[dt.datetime | None, QueryParameter(name="from")] = None,
    starts_before: Annotated[dt.datetime | None, QueryParameter(name="to")] = None,
    status: FromQuery[Status | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
) -> list[ConsultationOut]:
    """Your consultations (as patient, doctor or invited colleague) by start time, filtered
    by booking, start time range and status (``status=waiting``: who waits for you now)."""
    return await consults.consultations.listing(
        principal,
        booking_id=booking_id,
        start=starts_from,
        end=starts_before,
        status=status,
        limit=limit,
    )


@get("/")
async def show_consultation(
    consultation_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
) -> ConsultationOut:
    """The consultation, its participants and who of them is in the room now."""
    return await consults.consultations.get(principal, consultation_id)


@post("/enter", status_code=HTTP_200_OK)
async def enter_room(
    consultation_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Entered:
    """Enter the room (the patient: the waiting room) from 15 minutes before the visit: a
    room token for the signaling WebSocket and the video setup. Call again for a new one."""
    return await consults.consultations.enter(principal, consultation_id, context)


@post("/admit", opt=DOCTORS, status_code=HTTP_200_OK)
async def admit_patient(
    consultation_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ConsultationOut:
    """The doctor admits the waiting patient: the visit is in progress."""
    return await consults.consultations.admit(principal, consultation_id, context)


@post("/end", opt=DOCTORS, status_code=HTTP_200_OK)
async def end_visit(
    consultation_id: FromPath[uuid.UUID],
    data: JSONBody[EndRequest],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ConsultationOut:
    """The doctor ends the visit: completed, patient_no_show or first_visit_unsuitable
    (refunds follow the booking's rules)."""
    return await consults.consultations.end(
        principal, consultation_id, data.outcome, data.note, context
    )


@put("/video", opt=DOCTORS, status_code=HTTP_200_OK)
async def choose_video(
    consultation_id: FromPath[uuid.UUID],
    data: JSONBody[VideoChoice],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ConsultationOut:
    """Which installed video provider serves the call, and whether at high throughput."""
    return await consults.consultations.choose_video(principal, consultation_id, data, context)


# -- colleagues ---------------------------------------------------------------------------------
@get("/colleagues")
async def list_colleagues(
    consultation_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
) -> list[ColleagueOut]:
    return await consults.colleagues.listing(principal, consultation_id)


@put("/colleagues/{doctor_id:uuid}", opt=DOCTORS, status_code=HTTP_200_OK)
async def invite_colleague(
    consultation_id: FromPath[uuid.UUID],
    doctor_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ColleagueOut:
    """Invite another approved doctor into the consultation (they are told)."""
    return await consults.colleagues.invite(principal, consultation_id, doctor_id, context)


@delete("/colleagues/{doctor_id:uuid}", opt=DOCTORS, status_code=HTTP_204_NO_CONTENT)
async def remove_colleague(
    consultation_id: FromPath[uuid.UUID],
    doctor_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> None:
    """Remove a colleague: their access ends and their connection to the call is closed."""
    await consults.colleagues.remove(principal, consultation_id, doctor_id, context)


# -- notes --------------------------------------------------------------------------------------
@get("/notes")
async def read_notes(
    consultation_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
) -> NotesOut:
    """The doctors' notes: the current version and every earlier one."""
    return await consults.notes.read(principal, consultation_id)


@post("/notes", opt=DOCTORS, status_code=HTTP_201_CREATED)
async def write_notes(
    consultation_id: FromPath[uuid.UUID],
    data: JSONBody[NotesRequest],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> NoteVersion:
    """Save a new version of the notes, based on ``base_version`` (409 if it is stale)."""
    return await consults.notes.write(principal, consultation_id, data, context)


# -- chat and files -----------------------------------------------------------------------------
@get("/messages")
async def chat_history(
    consultation_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    after: Annotated[int, QueryParameter(ge=0)] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
) -> MessagePage:
    """Chat messages after ``seq`` ``after``, in order (fetch after a reconnect)."""
    return await consults.chat.history(principal, consultation_id, after, limit)


@post("/messages", status_code=HTTP_201_CREATED)
async def post_message(
    consultation_id: FromPath[uuid.UUID],
    data: JSONBody[ChatRequest],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> MessageOut:
    """Say something: stored, then relayed to the room as a ``chat`` message."""
    return await consults.chat.post(principal, consultation_id, data.body, data.client_ref, context)


@post("/attachments", status_code=HTTP_201_CREATED)
async def upload_attachment(
    consultation_id: FromPath[uuid.UUID],
    data: MultipartBody[AttachmentUpload],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> MessageOut:
    """Share a PDF, JPEG or PNG (judged by its content): stored, then relayed as ``chat``."""
    return await consults.chat.upload(principal, consultation_id, data, context)


@get("/attachments/{attachment_id:uuid}", opt=responds_with(*ACCEPTED))
async def download_attachment(
    consultation_id: FromPath[uuid.UUID],
    attachment_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Response[bytes]:
    """The file itself, as an attachment that no browser will render as a page."""
    content, attachment = await consults.chat.attachment_file(
        principal, consultation_id, attachment_id, context
    )
    return served(
        content,
        attachment.content_type,
        disposition("attachment", attachment.id, attachment.content_type, attachment.name),
    )


# -- operators ----------------------------------------------------------------------------------
@get("/trace")
async def trace_consultation(
    consultation_id: FromPath[uuid.UUID],
    consults: NamedDependency[ConsultationServices],
    context: NamedDependency[AuditContext],
) -> ConsultationTrace:
    """Everything that happened in the consultation and around it, oldest first."""
    return await consultation_trace(consults.db, consultation_id, context)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            Router(path="/consultations", opt=PARTICIPANTS, route_handlers=[list_consultations]),
            # A consultation, for its patient and doctors; only a doctor runs the visit.
            Router(
                path="/consultations/{consultation_id:uuid}",
                opt=PARTICIPANTS,
                route_handlers=[
                    show_consultation,
                    enter_room,
                    admit_patient,
                    end_visit,
                    choose_video,
                    list_colleagues,
                    invite_colleague,
                    remove_colleague,
                    read_notes,
                    write_notes,
                    chat_history,
                    post_message,
                    upload_attachment,
                    download_attachment,
                ],
            ),
            Router(
                path="/operator/consultations/{consultation_id:uuid}",
                opt=allow("operator"),
                route_handlers=[trace_consultation],
            ),
        ],
    )
]
DEPENDENCIES = {"consults": Provide(ConsultationServices, sync_to_thread=False)}
