"""Operators' drug catalog pages: the catalog (search it as doctors do, or browse it A to Z,
active, retired or all), adding a drug, editing one, retiring and restoring it. Plain forms
that work without script.

Thin handlers over ``DrugCatalog``: the service holds the rules (one row per product, a
specially managed drug is prescription-only), the database the rest.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.audit import AuditContext
from medmarket.drugs.schemas import (
    DosageForm,
    DrugIn,
    DrugOut,
    DrugStatus,
    Route,
    SpecialClass,
    Unit,
)
from medmarket.drugs.service import DrugCatalog
from medmarket.errors import NotFound, Problem
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, translator

OPERATOR = allow("operator")
FIELDS = (
    "generic_name_zh",
    "generic_name_en",
    "aliases",
    "dosage_form",
    "strength",
    "unit",
    "route",
    "atc_code",
    "prescription_only",
    "special_class",
    "cold_chain",
)
REQUIRED = (
    "generic_name_zh",
    "generic_name_en",
    "dosage_form",
    "strength",
    "unit",
    "route",
    "atc_code",
)
SHOWN = ("active", "retired", "all")
SEARCH_RESULTS = 50
NOTICES = ("created", "saved", "retired", "restored")
Text = Annotated[str | None, QueryParameter(max_length=200)]


def choices() -> dict[str, Any]:
    """The values each select offers, for the templates to word."""
    return {
        "dosage_forms": get_args(DosageForm),
        "units": get_args(Unit),
        "routes": get_args(Route),
        "special_classes": get_args(SpecialClass),
    }


def form_values(drug: DrugOut) -> dict[str, str]:
    """A stored drug as its form shows it."""
    return {
        "generic_name_zh": drug.generic_name_zh,
        "generic_name_en": drug.generic_name_en,
        "aliases": "\n".join(drug.aliases),
        "dosage_form": drug.dosage_form,
        "strength": drug.strength,
        "unit": drug.unit,
        "route": drug.route,
        "atc_code": drug.atc_code,
        "prescription_only": "yes" if drug.prescription_only else "",
        "special_class": drug.special_class or "",
        "cold_chain": "yes" if drug.cold_chain else "",
    }


def read_drug(submitted: dict[str, str]) -> tuple[dict[str, str], DrugIn]:
    """The form as typed (to show again) and as the service's request."""
    values = {name: submitted.get(name, "").strip() for name in FIELDS}
    values["atc_code"] = values["atc_code"].upper()
    body: dict[str, Any] = {
        **values,
        "aliases": [line.strip() for line in values["aliases"].splitlines() if line.strip()],
        "prescription_only": values["prescription_only"] == "yes",
        "special_class": values["special_class"] or None,
        "cold_chain": values["cold_chain"] == "yes",
    }
    return values, parse_form(DrugIn, body, REQUIRED, typed=values)


async def _catalog_page(
    request: Request[Any, Any, Any],
    drugs: DrugCatalog,
    *,
    q: str = "",
    show: str = "active",
    cursor: str | None = None,
    form: FormState | None = None,
    status: int = 200,
) -> Template:
    search = FormState(values={"q": q, "show": show})
    listed: list[DrugOut] = []
    more_url = None
    try:
        if q:
            listed = await drugs.search(q, limit=SEARCH_RESULTS, include_retired=show != "active")
            if show == "retired":
                listed = [drug for drug in listed if drug.retired_at is not None]
        else:
            shown: DrugStatus = (
                "retired" if show == "retired" else "all" if show == "all" else "active"
            )
            browsed = await drugs.browse(shown, cursor)
            listed = browsed.drugs
            if browsed.next_cursor:
                more_url = "/operator/drugs?" + urlencode(
                    {"show": show, "cursor": browsed.next_cursor}
                )
    except Problem as problem:
        search = FormState.from_problem(problem, translator(request), search.values, ("q",))
        status = problem.status if status == 200 else status
    return page(
        request,
        "operator/drugs.html",
        status=status,
        search=search,
        drugs=listed,
        searched=bool(q),
        continued=bool(cursor),
        more_url=more_url,
        shown=SHOWN,
        form=form or FormState(values={"prescription_only": "yes"}),
        **choices(),
    )


@get("/")
async def catalog(
    request: Request[Any, Any, Any],
    drugs: NamedDependency[DrugCatalog],
    q: Text = None,
    show: Text = None,
    cursor: Text = None,
) -> Template:
    chosen = show if show in SHOWN else "active"
    return await _catalog_page(request, drugs, q=(q or "").strip(), show=chosen, cursor=cursor)


@post("/")
async def add_drug(
    request: Request[Any, Any, Any],
    drugs: NamedDependency[DrugCatalog],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in FIELDS}
    try:
        values, drug = read_drug(submitted)
        created = await drugs.create(drug, context)
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values, FIELDS)
        return await _catalog_page(request, drugs, form=form, status=problem.status)
    return see_other(f"/operator/drugs/{created.id}?done=created")


async def _drug_page(
    request: Request[Any, Any, Any],
    drug: DrugOut,
    *,
    form: FormState | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    return page(
        request,
        "operator/drug.html",
        status=status,
        drug=drug,
        form=form or FormState(values=form_values(drug)),
        notice=notice,
        **choices(),
    )


@get("/{drug_id:uuid}")
async def drug_page(
    request: Request[Any, Any, Any],
    drug_id: FromPath[uuid.UUID],
    drugs: NamedDependency[DrugCatalog],
    done: Text = None,
) -> Template:
    drug = await drugs.get(drug_id)  # NotFound → the 404 page
    return await _drug_page(request, drug, notice=done if done in NOTICES else None)


@post("/{drug_id:uuid}")
async def save_drug(
    request: Request[Any, Any, Any],
    drug_id: FromPath[uuid.UUID],
    drugs: NamedDependency[DrugCatalog],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in FIELDS}
    try:
        values, drug = read_drug(submitted)
        await drugs.update(drug_id, drug, context)
    except NotFound:
        raise
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values, FIELDS)
        stored = await drugs.get(drug_id)
        return await _drug_page(request, stored, form=form, status=problem.status)
    return see_other(f"/operator/drugs/{drug_id}?done=saved")


async def _retire_or_restore(
    request: Request[Any, Any, Any],
    drug_id: uuid.UUID,
    drugs: DrugCatalog,
    context: AuditContext,
    *,
    retire: bool,
) -> Template | Redirect:
    try:
        if retire:
            await drugs.retire(drug_id, context)
        else:
            await drugs.restore(drug_id, context)
    except NotFound:
        raise
    except Problem as problem:  # retired already, in another tab
        stored = await drugs.get(drug_id)
        form = FormState.from_problem(problem, translator(request), form_values(stored), ())
        return await _drug_page(request, stored, form=form, status=problem.status)
    return see_other(f"/operator/drugs/{drug_id}?done={'retired' if retire else 'restored'}")


@post("/{drug_id:uuid}/retire")
async def retire_drug(
    request: Request[Any, Any, Any],
    drug_id: FromPath[uuid.UUID],
    drugs: NamedDependency[DrugCatalog],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    return await _retire_or_restore(request, drug_id, drugs, context, retire=True)


@post("/{drug_id:uuid}/restore")
async def restore_drug(
    request: Request[Any, Any, Any],
    drug_id: FromPath[uuid.UUID],
    drugs: NamedDependency[DrugCatalog],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    return await _retire_or_restore(request, drug_id, drugs, context, retire=False)


ROUTES = [
    Router(
        path="/operator/drugs",
        opt=OPERATOR,
        route_handlers=[catalog, add_drug, drug_page, save_drug, retire_drug, restore_drug],
        include_in_schema=False,
    )
]
