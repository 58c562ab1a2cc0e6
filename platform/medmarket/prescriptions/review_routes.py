"""The pharmacists' review desk API (README.md beside this file, "Review"): only a signed-in
pharmacist, and only for their own pharmacy's prescriptions; anyone else's is a 404."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.prescriptions.review import ReviewDesk
from medmarket.prescriptions.review_schemas import ApproveIn, DeskEntry, RejectIn

TAGS = ["review desk"]
# Approval is a person's act: the pharmacist's own signed-in session, no other role.
PHARMACISTS = allow("pharmacist")


def provide_review_desk(request: Request[Any, Any, Any]) -> ReviewDesk:
    return ReviewDesk(request.app.state.services.db)


@get("/")
async def review_desk(
    review: NamedDependency[ReviewDesk], principal: NamedDependency[Principal]
) -> list[DeskEntry]:
    """The prescriptions awaiting review at the pharmacist's pharmacy, oldest first, with
    only what review needs and how long each has waited."""
    return await review.awaiting(principal)


@get("/{prescription_id:uuid}")
async def review_entry(
    prescription_id: FromPath[uuid.UUID],
    review: NamedDependency[ReviewDesk],
    principal: NamedDependency[Principal],
) -> DeskEntry:
    """One prescription routed to the pharmacist's pharmacy, with its decision once made."""
    return await review.one(principal, prescription_id)


@post("/{prescription_id:uuid}/approve", status_code=HTTP_200_OK)
async def approve_prescription(
    prescription_id: FromPath[uuid.UUID],
    review: NamedDependency[ReviewDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
    data: JSONBody[ApproveIn | None] = None,
) -> DeskEntry:
    """The pharmacist approves the prescription: it may be dispensed (409 with
    ``status_now`` unless it is issued and unexpired; 403 for their own prescription)."""
    note = data.text if data else ""
    return await review.decide(principal, prescription_id, "approved", context, note=note)


@post("/{prescription_id:uuid}/reject", status_code=HTTP_200_OK)
async def reject_prescription(
    prescription_id: FromPath[uuid.UUID],
    data: JSONBody[RejectIn],
    review: NamedDependency[ReviewDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> DeskEntry:
    """The pharmacist rejects the prescription with a reason from the list (and words,
    required for ``other``); the doctor and the patient are told."""
    return await review.decide(principal, prescription_id, "rejected", context, data)


ROUTES = [
    Router(
        path="/api/review-desk",
        opt=PHARMACISTS,
        tags=TAGS,
        route_handlers=[review_desk, review_entry, approve_prescription, reject_prescription],
    )
]
DEPENDENCIES = {"review": Provide(provide_review_desk, sync_to_thread=False)}
