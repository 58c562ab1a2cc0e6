"""The partner hospital's referral desk, "转诊 / Referrals": the referrals patients agreed
to send to the admin's hospitals (newest first), and one with the patient's facts, the
urgency, the reason, the doctor's summary, the files, the timeline, and the form to record
what happened (seen, admitted, discharged, no-show, or referred back down to a doctor on
the platform with the discharge summary). Thin handlers over ``Referring`` and
``HospitalDesk``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import Problem
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, translator
from medmarket.referrals import partners
from medmarket.referrals.outcomes import HospitalDesk
from medmarket.referrals.pages import timeline
from medmarket.referrals.referring import Referring
from medmarket.referrals.schemas import HospitalOutcome, OutcomeIn, ReferralOut

RESULTS: tuple[str, ...] = get_args(HospitalOutcome)
# The outcome form's fields in page order; the service's "status" is the form's "result"
# and its "note" the form's "result_note" (ids unique on the page).
FIELDS = ("result", "result_note", "summary", "follow_up", "to_doctor_id")
ALIASES = {"status": "result", "note": "result_note"}
Done = Annotated[str | None, QueryParameter(max_length=20)]


async def _desk_page(
    request: Request[Any, Any, Any],
    referral: ReferralOut,
    *,
    form: FormState | None = None,
    notice: bool = False,
    status: int = 200,
) -> Template:
    db = request.app.state.services.db
    return page(
        request,
        "hospital/referral.html",
        status=status,
        referral=referral,
        patient=await partners.patient_facts(db, referral.patient.id),
        timeline=timeline(translator(request), referral.timeline),
        results=RESULTS,
        form=form or FormState(),
        notice=notice,
    )


@get("/")
async def desk_referrals(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
) -> Template:
    return page(request, "hospital/referrals.html", referrals=await referring.list(principal))


@get("/{referral_id:uuid}")
async def desk_referral(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    context: NamedDependency[AuditContext],
    done: Done = None,
) -> Template:
    referral = await referring.read(principal, referral_id, context)
    return await _desk_page(request, referral, notice=done == "recorded")


@post("/{referral_id:uuid}/outcome")
async def record_outcome(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    hospital_desk: NamedDependency[HospitalDesk],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in FIELDS}
    body: dict[str, Any] = {
        "status": values["result"],
        "note": values["result_note"],
        "summary": values["summary"] or None,
        "follow_up": values["follow_up"],
        "to_doctor_id": values["to_doctor_id"] or None,
    }
    try:
        data = parse_form(OutcomeIn, body, required=("result",), typed=values)
        await hospital_desk.record(principal, referral_id, data, context)
    except Problem as problem:
        referral = await referring.read(principal, referral_id)
        form = FormState.from_problem(problem, translator(request), values, FIELDS, aliases=ALIASES)
        return await _desk_page(request, referral, form=form, status=problem.status)
    return see_other(f"/hospital/referrals/{referral_id}?done=recorded")


ROUTES = [
    Router(
        path="/hospital/referrals",
        opt=allow("hospital_admin"),
        include_in_schema=False,
        route_handlers=[desk_referrals, desk_referral, record_outcome],
    )
]
