"""Patients' pages: the real-name details and the separate health-data consent (the two
steps after signing up, and later to change them), and family members.

Thin handlers over ``Patients``: the service holds every rule (phone numbers, dates of
birth, the policy version); a problem it raises lands beside the field it names.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import FieldError, InvalidInput, Problem
from medmarket.pages.forms import FormState, form_fields, parse_form, safe_next
from medmarket.pages.rendering import page, see_other, translator, web_assets
from medmarket.patients.schemas import ConsentIn, FamilyMemberIn, PatientDetails
from medmarket.patients.service import CURRENT_POLICY_VERSION, Patients

PATIENT = allow("patient")
POLICY = "health-data"
DETAIL_FIELDS = ("real_name", "phone", "date_of_birth", "sex")
FAMILY_FIELDS = ("real_name", "relationship", "date_of_birth", "sex")
RELATIONSHIPS = ("child", "parent", "spouse", "sibling", "grandparent", "other")
Text = Annotated[str | None, QueryParameter(max_length=2000)]


def _blank_to_none(values: dict[str, str]) -> dict[str, Any]:
    return {name: value or None for name, value in values.items()}


def _continue_to(next_path: str | None) -> str:
    return safe_next(next_path, "/experts")


# -- real-name details ---------------------------------------------------------------------
async def _details_page(
    request: Request[Any, Any, Any],
    form: FormState,
    *,
    signing_up: bool,
    status: int = 200,
) -> Template:
    return page(
        request,
        "patient/details.html",
        status=status,
        form=form,
        signing_up=signing_up,
    )


@get("/")
async def details_form(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    next_path: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
    signup: Text = None,
) -> Template:
    mine = await patients.mine(principal)
    values = {"next": safe_next(next_path, ""), "signup": "1" if signup else ""}
    if mine.me is not None:
        values |= {
            "real_name": mine.me.real_name,
            "phone": mine.me.phone or "",
            "date_of_birth": mine.me.date_of_birth.isoformat(),
            "sex": mine.me.sex or "",
        }
    else:
        values["real_name"] = principal.display_name
    return await _details_page(request, FormState(values=values), signing_up=bool(signup))


@post("/")
async def details_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in DETAIL_FIELDS}
    extra = {"next": safe_next(submitted.get("next"), ""), "signup": submitted.get("signup", "")}
    try:
        details = parse_form(
            PatientDetails,
            _blank_to_none(values),
            required=("real_name", "phone", "date_of_birth"),
        )
        await patients.set_details(principal, details, context)
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values | extra, DETAIL_FIELDS)
        return await _details_page(
            request, form, signing_up=bool(extra["signup"]), status=problem.status
        )
    mine = await patients.mine(principal)
    if mine.consent is None:
        query = {name: value for name, value in extra.items() if value}
        return see_other("/profile/consent" + (f"?{urlencode(query)}" if query else ""))
    return see_other(extra["next"] or "/family?saved=details")


# -- the health-data consent ---------------------------------------------------------------
async def _consent_page(
    request: Request[Any, Any, Any],
    patients: Patients,
    principal: Principal,
    form: FormState,
    *,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    mine = await patients.mine(principal)
    policy = web_assets(request).policy(POLICY, CURRENT_POLICY_VERSION, translator(request).locale)
    return page(
        request,
        "patient/consent.html",
        status=status,
        form=form,
        policy=policy,
        consent=mine.consent,
        signing_up=bool(form.value("signup")),
        notice=notice,
    )


@get("/consent")
async def consent_form(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    next_path: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
    signup: Text = None,
    withdrawn: Text = None,
) -> Template:
    values = {"next": safe_next(next_path, ""), "signup": "1" if signup else ""}
    return await _consent_page(
        request,
        patients,
        principal,
        FormState(values=values),
        notice="withdrawn" if withdrawn else None,
    )


@post("/consent")
async def consent_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {
        "agree": submitted.get("agree", ""),
        "policy_version": submitted.get("policy_version", ""),
        "next": safe_next(submitted.get("next"), ""),
        "signup": submitted.get("signup", ""),
    }
    try:
        if values["agree"] != "yes":
            raise InvalidInput(
                errors=[FieldError(field="agree", message="tick to agree", code="required")]
            )
        consent = ConsentIn(policy_version=values["policy_version"], agree=True)
        await patients.grant_consent(principal, consent, context)
    except Problem as problem:
        form = FormState.from_problem(
            problem, translator(request), values, ("agree", "policy_version")
        )
        return await _consent_page(request, patients, principal, form, status=problem.status)
    return see_other(_continue_to(values["next"] or ("/experts" if values["signup"] else None)))


@post("/consent/withdraw")
async def consent_withdraw(
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> Redirect:
    await patients.withdraw_consent(principal, context)
    return see_other("/profile/consent?withdrawn=1")


# -- family members ------------------------------------------------------------------------
async def _family_page(
    request: Request[Any, Any, Any],
    patients: Patients,
    principal: Principal,
    form: FormState | None = None,
    *,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    mine = await patients.mine(principal)
    return page(
        request,
        "patient/family.html",
        status=status,
        form=form or FormState(),
        me=mine.me,
        family=mine.family,
        consent=mine.consent,
        relationships=RELATIONSHIPS,
        notice=notice,
    )


@get("/")
async def family(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    saved: Text = None,
) -> Template:
    notice = saved if saved in ("details", "added", "removed") else None
    return await _family_page(request, patients, principal, notice=notice)


@post("/")
async def add_family_member(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in FAMILY_FIELDS}
    next_path = safe_next(submitted.get("next"), "")
    try:
        member = parse_form(
            FamilyMemberIn,
            _blank_to_none(values),
            required=("real_name", "relationship", "date_of_birth"),
        )
        await patients.add_family_member(principal, member, context)
    except Problem as problem:
        form = FormState.from_problem(
            problem, translator(request), values | {"next": next_path}, FAMILY_FIELDS
        )
        return await _family_page(request, patients, principal, form, status=problem.status)
    return see_other(next_path or "/family?saved=added")


@post("/{patient_id:uuid}/remove")
async def remove_family_member(
    patient_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    context: NamedDependency[AuditContext],
) -> Redirect:
    await patients.remove_family_member(principal, patient_id, context)
    return see_other("/family?saved=removed")


ROUTES = [
    Router(
        path="/",
        opt=PATIENT,
        include_in_schema=False,
        route_handlers=[
            Router(
                path="/profile",
                route_handlers=[
                    details_form,
                    details_submit,
                    consent_form,
                    consent_submit,
                    consent_withdraw,
                ],
            ),
            Router(
                path="/family", route_handlers=[family, add_family_member, remove_family_member]
            ),
        ],
    )
]
