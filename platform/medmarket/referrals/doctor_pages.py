"""The referring doctor's pages: the referral form of a visit (a partner hospital's
department, the urgency, an emergency's advice for the patient, the reason, the clinical
summary, the visit's files to send along), the same form completing a draft the platform
wrote, "我的转诊 / My referrals" (drafts first), one referral with how sending goes, the
hospital's answer and the timeline, cancelling it; and "下转患者 / Patients sent back",
which the doctor acknowledges taking on. Thin handlers over ``Referring`` and
``DownReferrals``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Database
from medmarket.errors import FieldError, InvalidInput, Problem
from medmarket.hospitals.interface import Urgency
from medmarket.pages.forms import FormState, parse_form
from medmarket.pages.rendering import page, see_other, translator
from medmarket.referrals import partners
from medmarket.referrals.outcomes import DownReferrals
from medmarket.referrals.pages import timeline
from medmarket.referrals.referring import Referring
from medmarket.referrals.schemas import CancelIn, ReferralDetails, ReferralIn, ReferralOut
from medmarket.referrals.states import LIVE

URGENCIES: tuple[str, ...] = get_args(Urgency)
# The form's fields in page order; "target" is the hospital and department chosen together
# ("<hospital id>|<department>"), so a department always belongs to its hospital.
FIELDS = ("target", "urgency", "emergency_advice", "reason", "clinical_summary", "attachment_ids")
REQUIRED = ("target", "urgency", "reason", "clinical_summary")
ALIASES = {"hospital_id": "target", "department": "target"}
NOTICES = ("referred", "cancelled", "acknowledged")
Done = Annotated[str | None, QueryParameter(max_length=20)]


def _db(request: Request[Any, Any, Any]) -> Database:
    return request.app.state.services.db  # type: ignore[no-any-return]


def details(values: dict[str, str], files: list[str]) -> dict[str, Any]:
    """The form as the service's ``ReferralDetails`` body (not yet checked)."""
    hospital, _, department = values["target"].partition("|")
    return {
        "hospital_id": hospital or None,
        "department": department,
        "urgency": values["urgency"] or None,
        "reason": values["reason"],
        "clinical_summary": values["clinical_summary"],
        "emergency_advice": values["emergency_advice"] or None,
        "attachment_ids": files,
    }


async def _submitted(request: Request[Any, Any, Any]) -> tuple[dict[str, str], list[str]]:
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in FIELDS[:-1]}
    files = [value for value in form.getall("attachment_ids", []) if isinstance(value, str)]
    return values, files


async def _form_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    booking_id: uuid.UUID | None,
    *,
    action: str,
    form: FormState,
    files_chosen: list[str],
    draft: ReferralOut | None = None,
    status: int = 200,
) -> Template:
    db = _db(request)
    files = await partners.visit_files(db, principal.user_id, booking_id) if booking_id else []
    return page(
        request,
        "doctor/referral_form.html",
        status=status,
        action=action,
        booking_id=booking_id,
        draft=draft,
        hospitals=await partners.partner_hospitals(db),
        urgencies=URGENCIES,
        files=files,
        files_chosen=set(files_chosen),
        form=form,
    )


def _problem_form(
    request: Request[Any, Any, Any], problem: Problem, values: dict[str, str]
) -> FormState:
    return FormState.from_problem(problem, translator(request), values, FIELDS, aliases=ALIASES)


def _parse(values: dict[str, str], files: list[str]) -> ReferralDetails:
    body = details(values, files)
    if values["target"] and "|" not in values["target"]:
        raise InvalidInput(errors=[FieldError(field="target", message="choose a department")])
    return parse_form(ReferralDetails, body, required=REQUIRED, typed=values)


# -- referring from a visit -----------------------------------------------------------------
@get("/visits/{booking_id:uuid}/refer")
async def refer_form(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
) -> Template:
    form = FormState(values={"urgency": "routine"})
    action = f"/doctor/visits/{booking_id}/refer"
    return await _form_page(
        request, principal, booking_id, action=action, form=form, files_chosen=[]
    )


@post("/visits/{booking_id:uuid}/refer")
async def refer(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    values, files = await _submitted(request)
    try:
        chosen = _parse(values, files)
        data = ReferralIn(booking_id=booking_id, **msgspec.structs.asdict(chosen))
        referral = await referring.refer(principal, data, context)
    except Problem as problem:
        if problem.slug == "referral-already-open":
            return see_other(f"/doctor/referrals/{problem.extra['referral_id']}")
        if problem.status == 404:
            raise
        return await _form_page(
            request,
            principal,
            booking_id,
            action=f"/doctor/visits/{booking_id}/refer",
            form=_problem_form(request, problem, values),
            files_chosen=files,
            status=problem.status,
        )
    return see_other(f"/doctor/referrals/{referral.id}?done=referred")


# -- the doctor's referrals -----------------------------------------------------------------
@get("/referrals")
async def my_referrals(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
) -> Template:
    referrals = await referring.list(principal)
    drafts = [r for r in referrals if r.status == "draft"]
    others = [r for r in referrals if r.status != "draft"]
    return page(request, "doctor/referrals.html", drafts=drafts, referrals=others)


async def _doctor_referral_page(
    request: Request[Any, Any, Any],
    referral: ReferralOut,
    *,
    notice: str | None = None,
    message: str | None = None,
    cancel_form: FormState | None = None,
    status: int = 200,
) -> Template:
    return page(
        request,
        "doctor/referral.html",
        status=status,
        referral=referral,
        timeline=timeline(translator(request), referral.timeline),
        may_cancel=referral.status in LIVE and referral.status != "draft",
        cancel_form=cancel_form or FormState(),
        notice=notice,
        message=message,
    )


@get("/referrals/{referral_id:uuid}")
async def referral_page(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    done: Done = None,
) -> Template | Redirect:
    referral = await referring.read(principal, referral_id)
    if referral.status == "draft":
        return see_other(f"/doctor/referrals/{referral_id}/complete")
    notice = done if done in NOTICES else None
    return await _doctor_referral_page(request, referral, notice=notice)


@get("/referrals/{referral_id:uuid}/complete")
async def complete_form(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
) -> Template | Redirect:
    """The platform's draft (a visit not fit for online care), for the doctor to complete."""
    draft = await referring.read(principal, referral_id)
    if draft.status != "draft":
        return see_other(f"/doctor/referrals/{referral_id}")
    form = FormState(
        values={
            "urgency": draft.urgency or "routine",
            "reason": draft.reason,
            "clinical_summary": draft.clinical_summary,
        }
    )
    return await _form_page(
        request,
        principal,
        draft.booking_id,
        action=f"/doctor/referrals/{referral_id}/complete",
        form=form,
        files_chosen=[],
        draft=draft,
    )


@post("/referrals/{referral_id:uuid}/complete")
async def complete(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    draft = await referring.read(principal, referral_id)
    values, files = await _submitted(request)
    try:
        await referring.submit(principal, referral_id, _parse(values, files), context)
    except Problem as problem:
        if problem.status == 404:
            raise
        return await _form_page(
            request,
            principal,
            draft.booking_id,
            action=f"/doctor/referrals/{referral_id}/complete",
            form=_problem_form(request, problem, values),
            files_chosen=files,
            draft=draft,
            status=problem.status,
        )
    return see_other(f"/doctor/referrals/{referral_id}?done=referred")


@post("/referrals/{referral_id:uuid}/cancel")
async def cancel(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    reason = str((await request.form()).get("reason") or "").strip()
    try:
        body = parse_form(CancelIn, {"reason": reason}, required=("reason",))
        await referring.cancel(principal, referral_id, body, context)
    except Problem as problem:
        referral = await referring.read(principal, referral_id)
        state = FormState.from_problem(problem, translator(request), {"reason": reason}, ["reason"])
        message, state.message = state.message, None
        return await _doctor_referral_page(
            request, referral, message=message, cancel_form=state, status=problem.status
        )
    return see_other(f"/doctor/referrals/{referral_id}?done=cancelled")


# -- patients sent back down ----------------------------------------------------------------
@get("/down-referrals")
async def down_referrals_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    down_referrals: NamedDependency[DownReferrals],
    done: Done = None,
) -> Template:
    return page(
        request,
        "doctor/down_referrals.html",
        down_referrals=await down_referrals.queue(principal),
        notice=done if done in NOTICES else None,
    )


@post("/down-referrals/{down_referral_id:uuid}/acknowledge")
async def acknowledge(
    down_referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    down_referrals: NamedDependency[DownReferrals],
    context: NamedDependency[AuditContext],
) -> Redirect:
    await down_referrals.acknowledge(principal, down_referral_id, context)
    return see_other(f"/doctor/down-referrals?done=acknowledged#d-{down_referral_id}")


ROUTES = [
    Router(
        path="/doctor",
        opt=allow("doctor"),
        include_in_schema=False,
        route_handlers=[
            refer_form,
            refer,
            my_referrals,
            referral_page,
            complete_form,
            complete,
            cancel,
            down_referrals_page,
            acknowledge,
        ],
    )
]
