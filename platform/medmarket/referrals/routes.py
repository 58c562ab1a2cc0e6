"""Referrals API (README.md beside this file): the referring doctor and the patient on
``/api/referrals``, the partner hospital's admins on ``/api/hospital/referrals``, the
follow-up doctor's down-referrals on ``/api/down-referrals``. Anyone else gets the 404 of a
referral that does not exist."""

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
from medmarket.referrals.outcomes import DownReferrals, HospitalDesk
from medmarket.referrals.records import ReferralFiles
from medmarket.referrals.referring import Referring
from medmarket.referrals.schemas import (
    CancelIn,
    DeclineIn,
    DownReferralOut,
    OutcomeIn,
    ReferralDetails,
    ReferralIn,
    ReferralOut,
)

TAGS = ["referrals"]


def provide_referring(request: Request[Any, Any, Any]) -> Referring:
    return Referring(request.app.state.services.db)


def provide_referral_files(request: Request[Any, Any, Any]) -> ReferralFiles:
    services = request.app.state.services
    return ReferralFiles(services.db, services.settings.data_path)


def provide_hospital_desk(request: Request[Any, Any, Any]) -> HospitalDesk:
    return HospitalDesk(request.app.state.services.db)


def provide_down_referrals(request: Request[Any, Any, Any]) -> DownReferrals:
    return DownReferrals(request.app.state.services.db)


# -- the referring doctor and the patient ----------------------------------------------------
@get("/")
async def my_referrals(
    referring: NamedDependency[Referring], principal: NamedDependency[Principal]
) -> list[ReferralOut]:
    """The doctor's referrals (drafts too), or those of the patient's account; newest first."""
    return await referring.list(principal)


@post("/", status_code=HTTP_201_CREATED, opt=allow("doctor") | answers(409))
async def refer(
    data: JSONBody[ReferralIn],
    referring: NamedDependency[Referring],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReferralOut:
    """Refer the patient of a visit (under way or over) to a partner hospital's department;
    it goes to the hospital once the patient agrees. One live referral per visit (409)."""
    return await referring.refer(principal, data, context)


@get("/{referral_id:uuid}")
async def read_referral(
    referral_id: FromPath[uuid.UUID],
    referring: NamedDependency[Referring],
    principal: NamedDependency[Principal],
) -> ReferralOut:
    """The referral with its files, timeline and any down-referral."""
    return await referring.read(principal, referral_id)


@post("/{referral_id:uuid}/submit", status_code=HTTP_200_OK, opt=allow("doctor") | answers(409))
async def submit_referral(
    referral_id: FromPath[uuid.UUID],
    data: JSONBody[ReferralDetails],
    referring: NamedDependency[Referring],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReferralOut:
    """Complete a draft (the platform drafts one when a first visit was not fit for online
    care): it goes to the patient to agree."""
    return await referring.submit(principal, referral_id, data, context)


@post("/{referral_id:uuid}/consent", status_code=HTTP_200_OK, opt=allow("patient") | answers(409))
async def consent_to_referral(
    referral_id: FromPath[uuid.UUID],
    referring: NamedDependency[Referring],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReferralOut:
    """The patient's account agrees to share the record with the hospital: it is sent."""
    return await referring.consent(principal, referral_id, context)


@post("/{referral_id:uuid}/decline", status_code=HTTP_200_OK, opt=allow("patient") | answers(409))
async def decline_referral(
    referral_id: FromPath[uuid.UUID],
    data: JSONBody[DeclineIn],
    referring: NamedDependency[Referring],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReferralOut:
    """The patient does not want it; the doctor is told."""
    return await referring.decline(principal, referral_id, data, context)


@post(
    "/{referral_id:uuid}/cancel",
    status_code=HTTP_200_OK,
    opt=allow("doctor", "patient") | answers(409),
)
async def cancel_referral(
    referral_id: FromPath[uuid.UUID],
    data: JSONBody[CancelIn],
    referring: NamedDependency[Referring],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReferralOut:
    """Call it off before the patient is seen; a hospital that was asked is told."""
    return await referring.cancel(principal, referral_id, data, context)


# -- the partner hospital ----------------------------------------------------------------------
@get("/")
async def hospital_referrals(
    referring: NamedDependency[Referring], principal: NamedDependency[Principal]
) -> list[ReferralOut]:
    """Referrals to the admin's hospitals (those the patient agreed to send), newest first."""
    return await referring.list(principal)


@get("/{referral_id:uuid}")
async def hospital_referral(
    referral_id: FromPath[uuid.UUID],
    referring: NamedDependency[Referring],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReferralOut:
    """The referral with the patient's record it shares; every read is audited."""
    return await referring.read(principal, referral_id, context)


@get("/{referral_id:uuid}/files/{attachment_id:uuid}", opt=responds_with(*ACCEPTED))
async def hospital_referral_file(
    referral_id: FromPath[uuid.UUID],
    attachment_id: FromPath[uuid.UUID],
    referral_files: NamedDependency[ReferralFiles],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Response[bytes]:
    """A file of the visit sent with the referral (a CT image, an ECG, a report), as an
    attachment no browser renders as a page; every read is audited."""
    content, file = await referral_files.read(principal, referral_id, attachment_id, context)
    return served(
        content, file.content_type, disposition("attachment", file.id, file.content_type, file.name)
    )


@post("/{referral_id:uuid}/outcome", status_code=HTTP_200_OK, opt=answers(409))
async def record_outcome(
    referral_id: FromPath[uuid.UUID],
    data: JSONBody[OutcomeIn],
    hospital_desk: NamedDependency[HospitalDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReferralOut:
    """What happened: seen, admitted, discharged, no-show, or referred back down to a doctor
    on the platform (a down-referral with the discharge summary)."""
    return await hospital_desk.record(principal, referral_id, data, context)


# -- the follow-up doctor ----------------------------------------------------------------------
@get("/")
async def my_down_referrals(
    down_referrals: NamedDependency[DownReferrals], principal: NamedDependency[Principal]
) -> list[DownReferralOut]:
    """Patients hospitals sent back to the doctor for follow-up, unacknowledged first."""
    return await down_referrals.queue(principal)


@get("/{down_referral_id:uuid}")
async def read_down_referral(
    down_referral_id: FromPath[uuid.UUID],
    down_referrals: NamedDependency[DownReferrals],
    principal: NamedDependency[Principal],
) -> DownReferralOut:
    return await down_referrals.read(principal, down_referral_id)


@post("/{down_referral_id:uuid}/acknowledge", status_code=HTTP_200_OK)
async def acknowledge_down_referral(
    down_referral_id: FromPath[uuid.UUID],
    down_referrals: NamedDependency[DownReferrals],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DownReferralOut:
    """The follow-up doctor has taken the patient on."""
    return await down_referrals.acknowledge(principal, down_referral_id, context)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            Router(
                path="/referrals",
                opt=allow("doctor", "patient"),
                route_handlers=[
                    my_referrals,
                    refer,
                    read_referral,
                    submit_referral,
                    consent_to_referral,
                    decline_referral,
                    cancel_referral,
                ],
            ),
            Router(
                path="/hospital/referrals",
                opt=allow("hospital_admin"),
                route_handlers=[
                    hospital_referrals,
                    hospital_referral,
                    hospital_referral_file,
                    record_outcome,
                ],
            ),
            Router(
                path="/down-referrals",
                opt=allow("doctor", "patient", "hospital_admin"),
                route_handlers=[my_down_referrals, read_down_referral, acknowledge_down_referral],
            ),
        ],
    )
]

DEPENDENCIES = {
    "referring": Provide(provide_referring, sync_to_thread=False),
    "hospital_desk": Provide(provide_hospital_desk, sync_to_thread=False),
    "down_referrals": Provide(provide_down_referrals, sync_to_thread=False),
    "referral_files": Provide(provide_referral_files, sync_to_thread=False),
}
