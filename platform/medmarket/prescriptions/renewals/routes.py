"""Renewals API: the patient asks to renew their own prescription, pays (``POST
/api/payments``, purpose ``prescription_renewal``) and follows it; the prescription's doctor
renews it or asks for a visit (README.md beside this file). Anyone else gets the 404 of a
request, or a prescription, that does not exist."""

from __future__ import annotations

import uuid

from litestar import Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.openapi import answers
from medmarket.prescriptions.renewals.dependencies import provide_renewals
from medmarket.prescriptions.renewals.schemas import (
    ApprovalIn,
    RenewalIn,
    RenewalOut,
    VisitRequestIn,
)
from medmarket.prescriptions.renewals.service import Renewals
from medmarket.prescriptions.schemas import HealthSummaryOut

TAGS = ["prescription renewals"]
PATIENTS = allow("patient")
DOCTORS = allow("doctor")


@post("/", status_code=HTTP_201_CREATED)
async def request_renewal(
    prescription_id: FromPath[uuid.UUID],
    data: JSONBody[RenewalIn],
    renewals: NamedDependency[Renewals],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> RenewalOut:
    """Ask the prescription's doctor to renew it without a call (409 naming every reason it
    cannot be, or the request already under way); pay for it before ``pay_by``."""
    return await renewals.request(principal, prescription_id, data, context)


@get("/")
async def my_renewals(
    renewals: NamedDependency[Renewals], principal: NamedDependency[Principal]
) -> list[RenewalOut]:
    """The account's renewal requests, newest first."""
    return await renewals.mine(principal)


@get("/{renewal_id:uuid}", opt=allow("patient", "doctor"))
async def read_renewal(
    renewal_id: FromPath[uuid.UUID],
    renewals: NamedDependency[Renewals],
    principal: NamedDependency[Principal],
) -> RenewalOut:
    """A renewal request and where it stands, for the account that asked and its doctor."""
    return await renewals.read(principal, renewal_id)


@post("/{renewal_id:uuid}/cancel", status_code=HTTP_200_OK)
async def cancel_renewal(
    renewal_id: FromPath[uuid.UUID],
    renewals: NamedDependency[Renewals],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> RenewalOut:
    """Withdraw a request that is not paid yet."""
    return await renewals.cancel(principal, renewal_id, context)


@get("/")
async def renewals_to_answer(
    renewals: NamedDependency[Renewals], principal: NamedDependency[Principal]
) -> list[RenewalOut]:
    """The paid requests the doctor has still to answer, the one due first first."""
    return await renewals.awaiting(principal)


@post("/approve", status_code=HTTP_200_OK)
async def approve_renewal(
    renewal_id: FromPath[uuid.UUID],
    data: JSONBody[ApprovalIn],
    renewals: NamedDependency[Renewals],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> RenewalOut:
    """Renew: a new prescription, checked as any other (422 with the findings), that renews
    the earlier one; ``renewal_id`` names it."""
    return await renewals.approve(principal, renewal_id, data, context)


@post("/ask-for-visit", status_code=HTTP_200_OK)
async def ask_for_visit(
    renewal_id: FromPath[uuid.UUID],
    data: JSONBody[VisitRequestIn],
    renewals: NamedDependency[Renewals],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> RenewalOut:
    """Ask to see the patient instead, with a message; the patient is refunded in full."""
    return await renewals.ask_for_visit(principal, renewal_id, data.message, context)


# A read that answers 409 once the request is no longer the doctor's to answer.
@get("/health-summary", opt=answers(409))
async def renewal_health_summary(
    renewal_id: FromPath[uuid.UUID],
    renewals: NamedDependency[Renewals],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> HealthSummaryOut:
    """The patient's allergies, chronic conditions, current medication, age and sex, for the
    doctor while they may answer (every read is audited)."""
    return await renewals.health_summary(principal, renewal_id, context)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            # The patient asks, follows and may cancel; the prescription's doctor answers.
            Router(
                path="/prescriptions/{prescription_id:uuid}/renewals",
                opt=PATIENTS,
                route_handlers=[request_renewal],
            ),
            Router(
                path="/renewals",
                opt=PATIENTS,
                route_handlers=[my_renewals, read_renewal, cancel_renewal],
            ),
            Router(path="/doctor/renewals", opt=DOCTORS, route_handlers=[renewals_to_answer]),
            Router(
                path="/renewals/{renewal_id:uuid}",
                opt=DOCTORS,
                route_handlers=[renewal_health_summary, approve_renewal, ask_for_visit],
            ),
        ],
    )
]
DEPENDENCIES = {"renewals": Provide(provide_renewals, sync_to_thread=False)}
