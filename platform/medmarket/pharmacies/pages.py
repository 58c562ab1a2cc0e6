"""Operators' pharmacy pages: the pharmacies (open, closed or all) and registering one, a
pharmacy's own page to edit and close it, and its pharmacists (add one by e-mail, invite one
who has no account yet, end a membership). Plain forms that work without script; a week's
opening hours are a line per day ("08:00-12:00, 14:00-18:00").

Thin handlers over ``PharmacyService`` and ``PharmacyMembers``: the services hold the rules,
the database the rest.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.schemas import InvitationOut, InvitationRequest
from medmarket.accounts.service import Accounts, Principal
from medmarket.audit import AuditContext
from medmarket.errors import FieldError, InvalidInput, NotFound, Problem
from medmarket.hospitals.service import HospitalService
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, settings_of, translator
from medmarket.pharmacies.hours import WEEKDAYS, format_day, parse_day
from medmarket.pharmacies.members import PharmacyMembers
from medmarket.pharmacies.schemas import (
    OpeningWindow,
    PharmacistIn,
    PharmacyIn,
    PharmacyOut,
    PharmacyStatus,
    PharmacyUpdate,
)
from medmarket.pharmacies.service import PharmacyService

OPERATOR = allow("operator")
HOURS = tuple(f"hours[{day}]" for day in WEEKDAYS)
EDITED = (
    "name_zh",
    "name_en",
    "licence_number",
    "province",
    "city",
    "district",
    "address",
    "phone",
    *HOURS,
    "reviews_prescriptions",
    "dispenses",
)
FIELDS = ("kind", "hospital_id", *EDITED)
REQUIRED = ("name_zh", "province", "city", "address", "phone")
MEMBER_FIELDS = ("email", "licence_number")
SHOWN: tuple[PharmacyStatus, ...] = get_args(PharmacyStatus)
NOTICES = ("created", "saved", "closed", "added", "ended")
Text = Annotated[str | None, QueryParameter(max_length=200)]


def form_values(pharmacy: PharmacyOut) -> dict[str, str]:
    """A stored pharmacy as its form shows it."""
    values = {
        name: str(getattr(pharmacy, name) or "")
        for name in ("name_zh", "name_en", "licence_number", "province", "city", "district")
    }
    values |= {"address": pharmacy.address, "phone": pharmacy.phone, "kind": pharmacy.kind}
    values["hospital_id"] = str(pharmacy.hospital_id or "")
    for day, name in zip(WEEKDAYS, HOURS, strict=True):
        values[name] = format_day(pharmacy.opening_hours, day)
    values["reviews_prescriptions"] = "yes" if pharmacy.reviews_prescriptions else ""
    values["dispenses"] = "yes" if pharmacy.dispenses else ""
    return values


def read_hours(values: dict[str, str]) -> tuple[list[OpeningWindow], list[FieldError]]:
    """The week's lines as windows, and an error for each day not written as windows."""
    windows: list[OpeningWindow] = []
    errors: list[FieldError] = []
    for day, name in zip(WEEKDAYS, HOURS, strict=True):
        try:
            windows += parse_day(day, values[name])
        except ValueError as exc:
            errors.append(FieldError(field=name, message=str(exc), code="not-windows"))
    return windows, errors


def hours_aliases(windows: list[OpeningWindow]) -> dict[str, str]:
    """The service names a window by its place in the list; the form by its day."""
    return {f"opening_hours[{i}]": f"hours[{w.weekday}]" for i, w in enumerate(windows)}


def read_form(
    submitted: dict[str, str], struct_type: type[PharmacyIn] | type[PharmacyUpdate]
) -> tuple[dict[str, str], PharmacyIn | PharmacyUpdate, dict[str, str]]:
    """The form as typed (to show again), as the service's request, and how the service's
    field names map to the form's."""
    values = {name: submitted.get(name, "").strip() for name in FIELDS}
    windows, unreadable = read_hours(values)
    body: dict[str, Any] = {name: values[name] for name in EDITED if name not in HOURS}
    body |= {
        "opening_hours": msgspec.to_builtins(windows),
        "reviews_prescriptions": values["reviews_prescriptions"] == "yes",
        "dispenses": values["dispenses"] == "yes",
    }
    if struct_type is PharmacyIn:
        # Registering: what is left empty is absent. Editing: empty clears it.
        for name in ("name_en", "licence_number", "district"):
            body[name] = body[name] or None
        body |= {"kind": values["kind"], "hospital_id": values["hospital_id"] or None}
    required = (*REQUIRED, "kind") if struct_type is PharmacyIn else REQUIRED
    try:
        request = parse_form(struct_type, body, required, typed=values)
    except InvalidInput as problem:
        # Every field the form can name at once: the empty ones and the unreadable days.
        raise InvalidInput(errors=[*problem.errors, *unreadable]) from None
    if unreadable:
        raise InvalidInput("; ".join(e.message for e in unreadable), errors=unreadable)
    return values, request, hours_aliases(windows)


async def _list_page(
    request: Request[Any, Any, Any],
    pharmacies: PharmacyService,
    hospitals: HospitalService,
    principal: Principal,
    *,
    show: PharmacyStatus = "open",
    form: FormState | None = None,
    status: int = 200,
) -> Template:
    return page(
        request,
        "operator/pharmacies.html",
        status=status,
        pharmacies=await pharmacies.managed_by(principal, show),
        listing=FormState(values={"show": show}),
        shown=SHOWN,
        hospitals=await hospitals.directory(),
        form=form or FormState(values={"kind": "independent", "dispenses": "yes"}),
        weekdays=list(zip(WEEKDAYS, HOURS, strict=True)),
    )


@get("/")
async def pharmacy_list(
    request: Request[Any, Any, Any],
    pharmacies: NamedDependency[PharmacyService],
    hospitals: NamedDependency[HospitalService],
    principal: NamedDependency[Principal],
    show: Text = None,
) -> Template:
    chosen: PharmacyStatus = "closed" if show == "closed" else "all" if show == "all" else "open"
    return await _list_page(request, pharmacies, hospitals, principal, show=chosen)


@post("/")
async def register_pharmacy(
    request: Request[Any, Any, Any],
    pharmacies: NamedDependency[PharmacyService],
    hospitals: NamedDependency[HospitalService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in FIELDS}
    aliases: dict[str, str] = {}
    try:
        values, data, aliases = read_form(submitted, PharmacyIn)
        assert isinstance(data, PharmacyIn)
        created = await pharmacies.create(principal, data, context)
    except Problem as problem:
        t = translator(request)
        form = FormState.from_problem(problem, t, values, FIELDS, aliases=aliases)
        return await _list_page(
            request, pharmacies, hospitals, principal, form=form, status=problem.status
        )
    return see_other(f"/operator/pharmacies/{created.id}?done=created")


async def _pharmacy_page(
    request: Request[Any, Any, Any],
    pharmacy: PharmacyOut,
    *,
    form: FormState | None = None,
    member_form: FormState | None = None,
    invite_form: FormState | None = None,
    invitation: InvitationOut | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    invitation_link = None
    if invitation is not None:
        query = urlencode({"invitation": invitation.token})
        invitation_link = f"{settings_of(request).base_url.rstrip('/')}/sign-up?{query}"
    return page(
        request,
        "operator/pharmacy.html",
        status=status,
        pharmacy=pharmacy,
        form=form or FormState(values=form_values(pharmacy)),
        member_form=member_form or FormState(),
        invite_form=invite_form or FormState(),
        invitation=invitation,
        invitation_link=invitation_link,
        notice=notice,
        weekdays=list(zip(WEEKDAYS, HOURS, strict=True)),
    )


@get("/{pharmacy_id:uuid}")
async def pharmacy_page(
    request: Request[Any, Any, Any],
    pharmacy_id: FromPath[uuid.UUID],
    pharmacies: NamedDependency[PharmacyService],
    principal: NamedDependency[Principal],
    done: Text = None,
) -> Template:
    pharmacy = await pharmacies.get(principal, pharmacy_id)  # NotFound → the 404 page
    return await _pharmacy_page(request, pharmacy, notice=done if done in NOTICES else None)


@post("/{pharmacy_id:uuid}")
async def save_pharmacy(
    request: Request[Any, Any, Any],
    pharmacy_id: FromPath[uuid.UUID],
    pharmacies: NamedDependency[PharmacyService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in FIELDS}
    aliases: dict[str, str] = {}
    try:
        values, data, aliases = read_form(submitted, PharmacyUpdate)
        assert isinstance(data, PharmacyUpdate)
        await pharmacies.update(principal, pharmacy_id, data, context)
    except NotFound:
        raise
    except Problem as problem:
        stored = await pharmacies.get(principal, pharmacy_id)
        values |= {"kind": stored.kind, "hospital_id": str(stored.hospital_id or "")}
        t = translator(request)
        form = FormState.from_problem(problem, t, values, FIELDS, aliases=aliases)
        return await _pharmacy_page(request, stored, form=form, status=problem.status)
    return see_other(f"/operator/pharmacies/{pharmacy_id}?done=saved")


@post("/{pharmacy_id:uuid}/close")
async def close_pharmacy(
    request: Request[Any, Any, Any],
    pharmacy_id: FromPath[uuid.UUID],
    pharmacies: NamedDependency[PharmacyService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    try:
        await pharmacies.close(principal, pharmacy_id, context)
    except NotFound:
        raise
    except Problem as problem:  # closed already, in another tab
        stored = await pharmacies.get(principal, pharmacy_id)
        form = FormState.from_problem(problem, translator(request), form_values(stored), ())
        return await _pharmacy_page(request, stored, form=form, status=problem.status)
    return see_other(f"/operator/pharmacies/{pharmacy_id}?done=closed")


@post("/{pharmacy_id:uuid}/pharmacists")
async def add_pharmacist(
    request: Request[Any, Any, Any],
    pharmacy_id: FromPath[uuid.UUID],
    pharmacies: NamedDependency[PharmacyService],
    pharmacy_members: NamedDependency[PharmacyMembers],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in MEMBER_FIELDS}
    try:
        body = {"email": values["email"], "licence_number": values["licence_number"] or None}
        data = parse_form(PharmacistIn, body, ("email",), typed=values)
        await pharmacy_members.add(principal, pharmacy_id, data, context)
    except NotFound:
        raise
    except Problem as problem:
        stored = await pharmacies.get(principal, pharmacy_id)
        t = translator(request)
        member_form = FormState.from_problem(problem, t, values, MEMBER_FIELDS)
        return await _pharmacy_page(request, stored, member_form=member_form, status=problem.status)
    return see_other(f"/operator/pharmacies/{pharmacy_id}?done=added")


@post("/{pharmacy_id:uuid}/invite")
async def invite_pharmacist(
    request: Request[Any, Any, Any],
    pharmacy_id: FromPath[uuid.UUID],
    pharmacies: NamedDependency[PharmacyService],
    accounts: NamedDependency[Accounts],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Template:
    """Invite someone without a pharmacist's account yet; signing up with the invitation
    makes them a pharmacist of this pharmacy. Its link is shown on this answer only (the
    token is never stored in the clear), so this renders the page instead of redirecting."""
    submitted = await form_fields(request)
    values = {"invite_email": submitted.get("invite_email", "").strip()}
    pharmacy = await pharmacies.get(principal, pharmacy_id)  # NotFound → the 404 page
    try:
        body = {"email": values["invite_email"], "role": "pharmacist", "pharmacy_id": pharmacy_id}
        data = parse_form(InvitationRequest, body, ("invite_email",), typed=values)
        invitation = await accounts.invite(data, context)
    except Problem as problem:
        t = translator(request)
        aliases = {"email": "invite_email"}
        form = FormState.from_problem(problem, t, values, ("invite_email",), aliases=aliases)
        return await _pharmacy_page(request, pharmacy, invite_form=form, status=problem.status)
    return await _pharmacy_page(request, pharmacy, invitation=invitation, status=201)


@post("/{pharmacy_id:uuid}/pharmacists/{user_id:uuid}/end")
async def end_membership(
    pharmacy_id: FromPath[uuid.UUID],
    user_id: FromPath[uuid.UUID],
    pharmacy_members: NamedDependency[PharmacyMembers],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Redirect:
    await pharmacy_members.end(principal, pharmacy_id, user_id, context)  # ended: 404 page
    return see_other(f"/operator/pharmacies/{pharmacy_id}?done=ended")


ROUTES = [
    Router(
        path="/operator/pharmacies",
        opt=OPERATOR,
        route_handlers=[
            pharmacy_list,
            register_pharmacy,
            pharmacy_page,
            save_pharmacy,
            close_pharmacy,
            add_pharmacist,
            invite_pharmacist,
            end_membership,
        ],
        include_in_schema=False,
    )
]
