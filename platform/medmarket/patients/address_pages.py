"""The patient's address book page, "我的地址 / My addresses": list, add, edit, remove and
make default. Thin handlers over ``Addresses``: a problem it raises lands beside its field.
"""

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
from medmarket.errors import Problem
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, translator
from medmarket.patients.addresses import Addresses
from medmarket.patients.schemas import AddressIn, AddressOut, AddressPatch

ADDRESS_FIELDS = (
    "label",
    "recipient",
    "phone",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
)
REQUIRED = ("recipient", "phone", "province", "city", "street")
NOTICES = ("added", "saved", "removed", "default")
Text = Annotated[str | None, QueryParameter(max_length=100)]


def _typed(submitted: dict[str, str]) -> dict[str, str]:
    return {name: submitted.get(name, "").strip() for name in ADDRESS_FIELDS}


def _body(values: dict[str, str]) -> dict[str, Any]:
    return {name: value or None for name, value in values.items()}


def _values_of(address: AddressOut) -> dict[str, str]:
    return {name: getattr(address, name) or "" for name in ADDRESS_FIELDS}


async def _book_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    addresses: Addresses,
    *,
    form: FormState | None = None,
    editing: AddressOut | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    return page(
        request,
        "patient/addresses.html",
        status=status,
        addresses=await addresses.list(principal),
        form=form or FormState(),
        editing=editing,
        fields=ADDRESS_FIELDS,
        notice=notice,
    )


@get("/")
async def address_book(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
    saved: Text = None,
) -> Template:
    notice = saved if saved in NOTICES else None
    return await _book_page(request, principal, addresses, notice=notice)


@post("/")
async def add_address(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = _typed(submitted)
    is_default = submitted.get("is_default") == "yes"
    try:
        address = parse_form(
            AddressIn, _body(values) | {"is_default": is_default}, required=REQUIRED
        )
        await addresses.add(principal, address, context)
    except Problem as problem:
        typed = values | {"is_default": "yes" if is_default else ""}
        form = FormState.from_problem(
            problem, translator(request), typed, (*ADDRESS_FIELDS, "addresses")
        )
        return await _book_page(request, principal, addresses, form=form, status=problem.status)
    return see_other("/addresses?saved=added")


@get("/{address_id:uuid}/edit")
async def edit_address(
    request: Request[Any, Any, Any],
    address_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
) -> Template:
    editing = await addresses.get(principal, address_id)
    form = FormState(values=_values_of(editing))
    return await _book_page(request, principal, addresses, form=form, editing=editing)


@post("/{address_id:uuid}")
async def save_address(
    request: Request[Any, Any, Any],
    address_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    editing = await addresses.get(principal, address_id)  # the same 404 for strangers
    values = _typed(await form_fields(request))
    try:
        changes = parse_form(AddressPatch, _body(values), required=REQUIRED)
        await addresses.change(principal, address_id, changes, context)
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values, ADDRESS_FIELDS)
        return await _book_page(
            request, principal, addresses, form=form, editing=editing, status=problem.status
        )
    return see_other("/addresses?saved=saved")


@post("/{address_id:uuid}/remove")
async def remove_address(
    address_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
    context: NamedDependency[AuditContext],
) -> Redirect:
    await addresses.remove(principal, address_id, context)
    return see_other("/addresses?saved=removed")


@post("/{address_id:uuid}/default")
async def make_default(
    address_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
    context: NamedDependency[AuditContext],
) -> Redirect:
    await addresses.make_default(principal, address_id, context)
    return see_other("/addresses?saved=default")


ROUTES = [
    Router(
        path="/addresses",
        opt=allow("patient"),
        include_in_schema=False,
        route_handlers=[
            address_book,
            add_address,
            edit_address,
            save_address,
            remove_address,
            make_default,
        ],
    )
]
