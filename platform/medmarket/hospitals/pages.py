"""Partner hospitals' pages: an admin's hospital (connecting its systems through an adapter
whose form is generated from the adapter type's configuration schema, testing the
connection, its doctors); operators' list of hospitals, registering one and inviting its
admin.

Secrets are never shown back: their boxes stay empty and, left empty, keep what is stored.
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
from medmarket.accounts.schemas import InvitationOut
from medmarket.accounts.service import Accounts, Principal
from medmarket.audit import AuditContext
from medmarket.doctors.service import DoctorService
from medmarket.errors import Problem
from medmarket.hospitals.config_form import config_form, read_config, shown_values
from medmarket.hospitals.schemas import (
    AdapterConfigIn,
    AdapterTestOut,
    AdminInvitationIn,
    HospitalCreate,
)
from medmarket.hospitals.service import HospitalService
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, settings_of, translator

MANAGERS = allow("operator", "hospital_admin")
OPERATOR = allow("operator")
LEVELS = ("三级甲等", "三级乙等", "三级丙等", "二级甲等", "二级乙等", "二级丙等", "一级")
REGISTER_FIELDS = ("name", "name_en", "level", "region", "departments")
DOCTORS_PER_PAGE = 20
Text = Annotated[str | None, QueryParameter(max_length=200)]


# -- a hospital, as its admins and operators manage it --------------------------------------
async def _hospital_page(
    request: Request[Any, Any, Any],
    hospital_id: uuid.UUID,
    hospitals: HospitalService,
    doctors: DoctorService,
    principal: Principal,
    *,
    chosen_type: str | None = None,
    adapter_form: FormState | None = None,
    invite_form: FormState | None = None,
    invitation: InvitationOut | None = None,
    test: AdapterTestOut | None = None,
    notice: str | None = None,
    cursor: str | None = None,
    status: int = 200,
) -> Template:
    hospital = await hospitals.detail(principal, hospital_id)  # 404 unless managed
    types = hospitals.adapter_types()
    current = hospital.adapter.type if hospital.adapter else None
    wanted = chosen_type or current or (types[0].id if types else None)
    adapter_type = next((kind for kind in types if kind.id == wanted), None)
    form_spec = (
        config_form(adapter_type.config_schema, adapter_type.secret_fields)
        if adapter_type
        else None
    )
    if adapter_form is None:
        stored = hospital.adapter.config if hospital.adapter and current == wanted else {}
        adapter_form = FormState(values=shown_values(form_spec, stored) if form_spec else {})
    listing = await doctors.listing(
        principal, status=None, hospital_id=hospital_id, cursor=cursor, limit=DOCTORS_PER_PAGE
    )
    more = None
    if listing.next_cursor:
        more = f"/hospital/{hospital_id}?{urlencode({'cursor': listing.next_cursor})}#doctors"
    invitation_link = None
    if invitation is not None:
        query = urlencode({"invitation": invitation.token})
        invitation_link = f"{settings_of(request).base_url.rstrip('/')}/sign-up?{query}"
    return page(
        request,
        "hospital/hospital.html",
        status=status,
        hospital=hospital,
        types=types,
        adapter_type=adapter_type,
        form_spec=form_spec,
        form=adapter_form,
        type_form=FormState(values={"type": wanted or ""}),
        secrets_set=hospital.adapter.secrets_set if hospital.adapter and current == wanted else [],
        test=test,
        doctors=listing.items,
        more_doctors=more,
        invite_form=invite_form or FormState(),
        invitation=invitation,
        invitation_link=invitation_link,
        notice=notice,
    )


@get("/", opt=allow("hospital_admin"))
async def my_hospitals(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    hospitals: NamedDependency[HospitalService],
) -> Template | Redirect:
    managed = await hospitals.managed_by(principal)
    if len(managed) == 1:
        return see_other(f"/hospital/{managed[0].id}")
    return page(request, "hospital/list.html", hospitals=managed, form=FormState(), operator=False)


@get("/{hospital_id:uuid}")
async def hospital(
    request: Request[Any, Any, Any],
    hospital_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    hospitals: NamedDependency[HospitalService],
    doctors: NamedDependency[DoctorService],
    adapter_type: Annotated[str | None, QueryParameter(name="type", max_length=100)] = None,
    cursor: Text = None,
    done: Text = None,
) -> Template:
    notice = done if done in ("created", "configured") else None
    return await _hospital_page(
        request,
        hospital_id,
        hospitals,
        doctors,
        principal,
        chosen_type=adapter_type,
        notice=notice,
        cursor=cursor,
    )


@post("/{hospital_id:uuid}/adapter")
async def configure_adapter(
    request: Request[Any, Any, Any],
    hospital_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    hospitals: NamedDependency[HospitalService],
    doctors: NamedDependency[DoctorService],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    chosen = submitted.get("type", "")
    types = {kind.id: kind for kind in hospitals.adapter_types()}
    spec = (
        config_form(types[chosen].config_schema, types[chosen].secret_fields)
        if chosen in types
        else None
    )
    # What was typed comes back, except secrets: they are never written into a page.
    secret_names = {f.form_name for f in spec.fields if f.secret} if spec else set()
    values = {name: value for name, value in submitted.items() if name not in secret_names}
    try:
        config = read_config(spec, submitted) if spec else {}
        await hospitals.configure_adapter(
            principal, hospital_id, AdapterConfigIn(type=chosen, config=config), context
        )
    except Problem as problem:
        state = FormState.from_problem(
            problem, translator(request), values, ["type", *(spec.names if spec else [])]
        )
        return await _hospital_page(
            request,
            hospital_id,
            hospitals,
            doctors,
            principal,
            chosen_type=chosen or None,
            adapter_form=state,
            status=problem.status,
        )
    return see_other(f"/hospital/{hospital_id}?done=configured#adapter")


@post("/{hospital_id:uuid}/adapter/test")
async def test_adapter(
    request: Request[Any, Any, Any],
    hospital_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    hospitals: NamedDependency[HospitalService],
    doctors: NamedDependency[DoctorService],
    context: NamedDependency[AuditContext],
) -> Template:
    result = await hospitals.test_adapter(principal, hospital_id, context)
    return await _hospital_page(request, hospital_id, hospitals, doctors, principal, test=result)


# -- operators: every hospital, registering one, inviting its admin -------------------------
@get("/")
async def all_hospitals(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    hospitals: NamedDependency[HospitalService],
) -> Template:
    managed = await hospitals.managed_by(principal)
    return page(
        request,
        "hospital/list.html",
        hospitals=managed,
        form=FormState(values={"level": "三级甲等"}),
        levels=LEVELS,
        operator=True,
    )


@post("/")
async def register_hospital(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    hospitals: NamedDependency[HospitalService],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in REGISTER_FIELDS}
    body = {
        **values,
        "name_en": values["name_en"] or None,
        "departments": [d.strip() for d in values["departments"].splitlines() if d.strip()],
    }
    try:
        data = parse_form(HospitalCreate, body, ("name", "level", "region"), typed=values)
        created = await hospitals.create(principal, data, context)
    except Problem as problem:
        state = FormState.from_problem(problem, translator(request), values, REGISTER_FIELDS)
        return page(
            request,
            "hospital/list.html",
            status=problem.status,
            hospitals=await hospitals.managed_by(principal),
            form=state,
            levels=LEVELS,
            operator=True,
        )
    return see_other(f"/hospital/{created.id}?done=created")


@post("/{hospital_id:uuid}/invite", opt=OPERATOR)
async def invite_admin(
    request: Request[Any, Any, Any],
    hospital_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    hospitals: NamedDependency[HospitalService],
    doctors: NamedDependency[DoctorService],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> Template:
    """The invitation's link is shown on this answer only (its token is never stored in
    the clear), so this renders the page instead of redirecting."""
    submitted = await form_fields(request)
    values = {"email": submitted.get("email", "").strip()}
    try:
        data = parse_form(AdminInvitationIn, values, ("email",))
        invitation = await hospitals.invite_admin(principal, hospital_id, data, accounts, context)
    except Problem as problem:
        state = FormState.from_problem(problem, translator(request), values, ("email",))
        return await _hospital_page(
            request,
            hospital_id,
            hospitals,
            doctors,
            principal,
            invite_form=state,
            status=problem.status,
        )
    return await _hospital_page(
        request, hospital_id, hospitals, doctors, principal, invitation=invitation, status=201
    )


ROUTES = [
    Router(
        path="/",
        include_in_schema=False,
        route_handlers=[
            Router(
                path="/hospital",
                opt=MANAGERS,
                route_handlers=[
                    my_hospitals,
                    hospital,
                    configure_adapter,
                    test_adapter,
                    invite_admin,
                ],
            ),
            Router(
                path="/operator/hospitals",
                opt=OPERATOR,
                route_handlers=[all_hospitals, register_hospital],
            ),
        ],
    )
]
