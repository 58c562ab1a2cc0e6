"""Reviewing doctors: the operators' queue of applications (filtered by status and
hospital), and one doctor's application as an operator or the hospital's admin sees it, with
the checks' evidence, documents, history and the decisions the viewer may take.

Each decision has its own route with the same access as its API route; the buttons shown
are the service's ``DoctorOut.actions`` for the viewer.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.doctors.decisions import DoctorDecisions
from medmarket.doctors.schemas import DoctorStatus
from medmarket.doctors.service import DoctorService
from medmarket.errors import Problem
from medmarket.hospitals.service import HospitalService
from medmarket.pages.forms import FormState, form_fields
from medmarket.pages.rendering import page, see_other, translator

OPERATOR = allow("operator")
REVIEWERS = allow("operator", "hospital_admin")
STATUSES: tuple[str, ...] = get_args(DoctorStatus)
QUEUE_SIZE = 20
Text = Annotated[str | None, QueryParameter(max_length=200)]
Decision = Callable[[Principal, uuid.UUID, str, AuditContext], Awaitable[None]]


@get("/")
async def queue(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    doctors: NamedDependency[DoctorService],
    hospitals: NamedDependency[HospitalService],
    status: Text = None,
    hospital_id: Text = None,
    cursor: Text = None,
) -> Template:
    values = {
        "status": status if status in (*STATUSES, "all") else "needs_review",
        "hospital_id": hospital_id or "",
    }
    form = FormState(values=values)
    chosen_hospital = None
    if values["hospital_id"]:
        try:
            chosen_hospital = uuid.UUID(values["hospital_id"])
        except ValueError:
            form.add("hospital_id", translator(request)("error.hospital_id.invalid"))
    items: list[Any] = []
    more = None
    code = 200
    if not form.has_errors:
        try:
            listing = await doctors.listing(
                principal,
                status=None if values["status"] == "all" else values["status"],  # type: ignore[arg-type]
                hospital_id=chosen_hospital,
                cursor=cursor or None,
                limit=QUEUE_SIZE,
            )
            items = listing.items
            if listing.next_cursor:
                more = "/operator/applications?" + urlencode(
                    {**values, "cursor": listing.next_cursor}
                )
        except Problem as problem:
            form = FormState.from_problem(problem, translator(request), values, values.keys())
            code = problem.status
    return page(
        request,
        "operator/applications.html",
        status=code,
        form=form,
        statuses=STATUSES,
        hospitals=await hospitals.managed_by(principal),
        items=items,
        more_url=more,
        continued=bool(cursor),
    )


async def _review_page(
    request: Request[Any, Any, Any],
    doctor_id: uuid.UUID,
    doctors: DoctorService,
    principal: Principal,
    *,
    form: FormState | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    doctor = await doctors.detail(principal, doctor_id)  # the same 404 for everyone else
    return page(
        request,
        "operator/review.html",
        status=status,
        doctor=doctor,
        runs=await doctors.check_runs(principal, doctor_id),
        form=form or FormState(),
        notice=notice,
    )


@get("/", opt=REVIEWERS)
async def review(
    request: Request[Any, Any, Any],
    doctor_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    doctors: NamedDependency[DoctorService],
    done: Text = None,
) -> Template:
    decided = done if done in ACTIONS else None
    return await _review_page(request, doctor_id, doctors, principal, notice=decided)


async def _decide(
    request: Request[Any, Any, Any],
    doctor_id: uuid.UUID,
    action: str,
    decision: Decision,
    doctors: DoctorService,
    principal: Principal,
    context: AuditContext,
) -> Template | Redirect:
    submitted = await form_fields(request)
    reason = submitted.get("reason", "").strip()
    values = {"reason": reason, "action": action}
    try:
        await decision(principal, doctor_id, reason, context)  # the service wants a reason
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values, ("reason",))
        return await _review_page(
            request, doctor_id, doctors, principal, form=form, status=problem.status
        )
    return see_other(f"/review/doctors/{doctor_id}?done={action}")


def _decision_route(action: str, access: dict[str, Any] | None = None) -> Any:
    """``POST /review/doctors/{id}/<action>``: the decision by the same name, for whom the
    Router lets decide unless ``access`` says otherwise."""

    @post(f"/{action.replace('_', '-')}", opt=access, name=f"review-{action}")
    async def decide(
        request: Request[Any, Any, Any],
        doctor_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        doctors: NamedDependency[DoctorService],
        decisions: NamedDependency[DoctorDecisions],
        context: NamedDependency[AuditContext],
    ) -> Template | Redirect:
        async def call(who: Principal, target: uuid.UUID, reason: str, ctx: AuditContext) -> None:
            method = getattr(decisions, action)
            await method(who, target, (reason or None) if action == "recheck" else reason, ctx)

        return await _decide(request, doctor_id, action, call, doctors, principal, context)

    return decide


ACTIONS = ("approve", "reject", "recheck", "suspend", "reinstate", "end_affiliation")
DECISION_ROUTES = [
    _decision_route("approve"),
    _decision_route("reject"),
    _decision_route("recheck"),
    _decision_route("suspend"),
    _decision_route("reinstate"),
    _decision_route("end_affiliation", REVIEWERS),
]

ROUTES = [
    Router(
        path="/",
        include_in_schema=False,
        route_handlers=[
            Router(path="/operator/applications", opt=OPERATOR, route_handlers=[queue]),
            # Operators decide; hospital admins see their doctors and may end an affiliation.
            Router(
                path="/review/doctors/{doctor_id:uuid}",
                opt=OPERATOR,
                route_handlers=[review, *DECISION_ROUTES],
            ),
        ],
    )
]
