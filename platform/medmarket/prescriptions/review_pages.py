"""The pharmacist's review desk pages (审方): the list of what awaits review, oldest first,
with how long each has waited (times in the pharmacist's zone), and one prescription with
approve and reject (a reason from the list, and words) as plain forms that work without
script. Thin handlers over ``ReviewDesk``: the service holds the rules."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import NotFound, Problem
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, translator
from medmarket.prescriptions.review import ReviewDesk
from medmarket.prescriptions.review_schemas import REJECT_REASONS, RejectIn

PHARMACIST = allow("pharmacist")
REJECT_FIELDS = ("reason_code", "text")
NOTICES = ("approved", "rejected")
Notice = Annotated[str | None, QueryParameter(max_length=20)]


async def _no_pharmacy(request: Request[Any, Any, Any]) -> Template:
    return page(request, "pharmacist/desk.html", entries=[], no_pharmacy=True)


@get("/")
async def desk(
    request: Request[Any, Any, Any],
    review: NamedDependency[ReviewDesk],
    principal: NamedDependency[Principal],
    done: Notice = None,
) -> Template:
    try:
        entries = await review.awaiting(principal)
    except NotFound:
        return await _no_pharmacy(request)
    return page(
        request,
        "pharmacist/desk.html",
        entries=entries,
        no_pharmacy=False,
        notice=done if done in NOTICES else None,
    )


async def _entry_page(
    request: Request[Any, Any, Any],
    review: ReviewDesk,
    principal: Principal,
    prescription_id: uuid.UUID,
    *,
    form: FormState | None = None,
    approval: FormState | None = None,
    status: int = 200,
) -> Template:
    entry = await review.one(principal, prescription_id)
    return page(
        request,
        "pharmacist/review.html",
        status=status,
        entry=entry,
        form=form or FormState(),
        approval=approval or FormState(),
        reasons=REJECT_REASONS,
    )


@get("/{prescription_id:uuid}")
async def review_page(
    request: Request[Any, Any, Any],
    prescription_id: FromPath[uuid.UUID],
    review: NamedDependency[ReviewDesk],
    principal: NamedDependency[Principal],
) -> Template:
    return await _entry_page(request, review, principal, prescription_id)


@post("/{prescription_id:uuid}/approve")
async def approve(
    request: Request[Any, Any, Any],
    prescription_id: FromPath[uuid.UUID],
    review: NamedDependency[ReviewDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    note = submitted.get("note", "").strip()[:500]
    try:
        await review.decide(principal, prescription_id, "approved", context, note=note)
    except NotFound:
        raise
    except Problem as problem:
        approval = FormState.from_problem(problem, translator(request), {"note": note}, ())
        return await _entry_page(
            request, review, principal, prescription_id, approval=approval, status=problem.status
        )
    return see_other("/review-desk?done=approved")


@post("/{prescription_id:uuid}/reject")
async def reject(
    request: Request[Any, Any, Any],
    prescription_id: FromPath[uuid.UUID],
    review: NamedDependency[ReviewDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in REJECT_FIELDS}
    try:
        data = parse_form(RejectIn, values, ("reason_code",))
        await review.decide(principal, prescription_id, "rejected", context, data)
    except NotFound:
        raise
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values, REJECT_FIELDS)
        return await _entry_page(
            request, review, principal, prescription_id, form=form, status=problem.status
        )
    return see_other("/review-desk?done=rejected")


PAGES = [
    Router(
        path="/review-desk",
        opt=PHARMACIST,
        route_handlers=[desk, review_page, approve, reject],
        include_in_schema=False,
    )
]
