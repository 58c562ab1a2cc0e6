"""Remote consultations API (README.md beside this file): the requesting doctor and the
invited experts on ``/api/remote-consultations``. Anyone else gets the 404 of a case that
does not exist; an expert of the case who tries a requester's step gets 403, and so does
the requester trying an expert's."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.files import ACCEPTED, disposition, served
from medmarket.openapi import answers, responds_with
from medmarket.remote_consults.answering import Answering
from medmarket.remote_consults.records import CaseFiles
from medmarket.remote_consults.requesting import Requesting
from medmarket.remote_consults.schemas import (
    AcceptIn,
    CancelIn,
    CaseIn,
    CaseOut,
    DecisionIn,
    DeclineIn,
    OpinionIn,
    ProposalAnswerIn,
    ProposeIn,
    ScheduleIn,
)

TAGS = ["remote consultations"]
INVITATION = "/{case_id:uuid}/invitations/{invitation_id:uuid}"
# The requester's steps: an expert of the case is refused (403), a move out of turn is 409.
REQUESTERS = answers(403, 409)
# The experts' steps: the requester is refused (403), a move out of turn is 409.
EXPERTS = answers(403, 409)
# Reading a case: a patient or a hospital's admin gets the 404 of a case that does not exist
# (as any doctor outside it does), not a 403 that would say there is something to see.
READERS = allow("doctor", "patient", "hospital_admin")


def provide_requesting(request: Request[Any, Any, Any]) -> Requesting:
    return Requesting(request.app.state.services.db)


def provide_answering(request: Request[Any, Any, Any]) -> Answering:
    return Answering(request.app.state.services.db)


def provide_case_files(request: Request[Any, Any, Any]) -> CaseFiles:
    services = request.app.state.services
    return CaseFiles(services.db, services.settings.data_path)


# -- the case -------------------------------------------------------------------------------
@get("/")
async def my_cases(
    requesting: NamedDependency[Requesting], principal: NamedDependency[Principal]
) -> list[CaseOut]:
    """The doctor's cases, as requester and as invited expert; newest first, headers only."""
    return await requesting.list(principal)


@post("/", status_code=HTTP_201_CREATED)
async def open_case(
    data: JSONBody[CaseIn],
    requesting: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """Ask one expert or a team (MDT) about a patient of one's visits, with the patient's
    consent recorded on the spot (422 naming ``consent`` without it)."""
    return await requesting.open(principal, data, context)


@get("/{case_id:uuid}", opt=READERS)
async def read_case(
    case_id: FromPath[uuid.UUID],
    requesting: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
) -> CaseOut:
    """The case with its invitations, timeline and (unless the reader declined) the
    patient's history, files, opinions and decision."""
    return await requesting.read(principal, case_id)


@get("/{case_id:uuid}/files/{attachment_id:uuid}", opt=READERS | responds_with(*ACCEPTED))
async def case_file(
    case_id: FromPath[uuid.UUID],
    attachment_id: FromPath[uuid.UUID],
    case_files: NamedDependency[CaseFiles],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Response[bytes]:
    """A visit's file the case carries, as an attachment no browser renders as a page;
    every read is audited."""
    content, file = await case_files.read(principal, case_id, attachment_id, context)
    return served(
        content, file.content_type, disposition("attachment", file.id, file.content_type, file.name)
    )


# -- the requester's steps ----------------------------------------------------------------------
@post("/{case_id:uuid}/accept-proposal", status_code=HTTP_200_OK, opt=REQUESTERS)
async def answer_proposal(
    case_id: FromPath[uuid.UUID],
    data: JSONBody[ProposalAnswerIn],
    requesting: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """Take an expert's proposed time ("accept") or ask them again ("reask")."""
    return await requesting.answer_proposal(principal, case_id, data, context)


@post("/{case_id:uuid}/schedule", status_code=HTTP_200_OK, opt=REQUESTERS)
async def schedule_case(
    case_id: FromPath[uuid.UUID],
    data: JSONBody[ScheduleIn],
    requesting: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """Fix the time once every expert answered and one accepted: a time an expert took."""
    return await requesting.schedule(principal, case_id, data, context)


@post("/{case_id:uuid}/start", status_code=HTTP_200_OK, opt=REQUESTERS)
async def start_session(
    case_id: FromPath[uuid.UUID],
    requesting: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """The session begins (the video room of a later increment attaches here)."""
    return await requesting.start(principal, case_id, context)


@post("/{case_id:uuid}/decision", status_code=HTTP_200_OK, opt=REQUESTERS)
async def record_decision(
    case_id: FromPath[uuid.UUID],
    data: JSONBody[DecisionIn],
    requesting: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """The requester's decision, once an opinion came in. Advisory: responsibility stays
    with the requester; the answer's ``referral_hint`` points to the referrals API."""
    return await requesting.record_decision(principal, case_id, data, context)


@post("/{case_id:uuid}/cancel", status_code=HTTP_200_OK, opt=REQUESTERS)
async def cancel_case(
    case_id: FromPath[uuid.UUID],
    data: JSONBody[CancelIn],
    requesting: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """Call the case off: withdrawn while open, cancelled once scheduled."""
    return await requesting.cancel(principal, case_id, data, context)


# -- the expert's steps -------------------------------------------------------------------------
@post(INVITATION + "/accept", status_code=HTTP_200_OK, opt=EXPERTS)
async def accept_invitation(
    case_id: FromPath[uuid.UUID],
    invitation_id: FromPath[uuid.UUID],
    data: JSONBody[AcceptIn],
    answering: NamedDependency[Answering],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """Take one of the case's times."""
    return await answering.accept(principal, case_id, invitation_id, data, context)


@post(INVITATION + "/decline", status_code=HTTP_200_OK, opt=EXPERTS)
async def decline_invitation(
    case_id: FromPath[uuid.UUID],
    invitation_id: FromPath[uuid.UUID],
    data: JSONBody[DeclineIn],
    answering: NamedDependency[Answering],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """Decline, saying why."""
    return await answering.decline(principal, case_id, invitation_id, data, context)


@post(INVITATION + "/propose", status_code=HTTP_200_OK, opt=EXPERTS)
async def propose_time(
    case_id: FromPath[uuid.UUID],
    invitation_id: FromPath[uuid.UUID],
    data: JSONBody[ProposeIn],
    answering: NamedDependency[Answering],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """Ask for another time; the requester takes it or asks again."""
    return await answering.propose(principal, case_id, invitation_id, data, context)


@post("/{case_id:uuid}/opinions", status_code=HTTP_201_CREATED, opt=EXPERTS)
async def give_opinion(
    case_id: FromPath[uuid.UUID],
    data: JSONBody[OpinionIn],
    answering: NamedDependency[Answering],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CaseOut:
    """An accepting expert's opinion, once the case is scheduled; written once (409 after)."""
    return await answering.give_opinion(principal, case_id, data, context)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            Router(
                path="/remote-consultations",
                opt=allow("doctor"),
                route_handlers=[
                    my_cases,
                    open_case,
                    read_case,
                    case_file,
                    answer_proposal,
                    schedule_case,
                    start_session,
                    record_decision,
                    cancel_case,
                    accept_invitation,
                    decline_invitation,
                    propose_time,
                    give_opinion,
                ],
            )
        ],
    )
]

DEPENDENCIES = {
    "requesting": Provide(provide_requesting, sync_to_thread=False),
    "answering": Provide(provide_answering, sync_to_thread=False),
    "case_files": Provide(provide_case_files, sync_to_thread=False),
}
