"""Settlement statement pages: a doctor's own earnings, a hospital's share for its admins
(and operators), and a pharmacy's for its hospital's admins (and operators), month by month:
each charge and refund, the totals, a subtotal per doctor and links to its own pharmacies'
statements for a hospital, and the same statement as CSV for a spreadsheet.

A month is counted in the platform's time zone, as partners count it (``statements.py``);
amounts are shown in the reader's locale. Thin handlers over ``Settlements``: who may read
which statement is its rule.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.errors import InvalidInput, NotFound, Problem
from medmarket.ledger.schemas import Period, Statement
from medmarket.ledger.statements import PharmacyParty, Settlements
from medmarket.pages.formatting import Formatter
from medmarket.pages.forms import FormState
from medmarket.pages.rendering import locale_of, page, settings_of, translator

PeriodText = Annotated[str | None, QueryParameter(max_length=20)]


@dataclass(frozen=True)
class DoctorSubtotal:
    name: str
    charges: int
    refunds: int
    share: int


def this_month(time_zone: str) -> str:
    return dt.datetime.now(Formatter("en", time_zone).zone).strftime("%Y-%m")


def checked_period(raw: str) -> str:
    """The month asked for, as the API takes it (2026-03); named beside the field if not."""
    try:
        return msgspec.convert(raw.strip(), Period)
    except msgspec.ValidationError:
        raise InvalidInput("choose a month like 2026-03", field="period") from None


def shifted(period: str, months: int) -> str:
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def by_doctor(statement: Statement) -> list[DoctorSubtotal]:
    """A hospital's share per doctor, largest first."""
    totals: dict[str, list[int]] = {}
    for line in statement.lines:
        row = totals.setdefault(line.doctor_name or "", [0, 0, 0])
        row[0 if line.kind == "charge" else 1] += 1
        row[2] += line.share
    return sorted(
        (DoctorSubtotal(name, *numbers) for name, numbers in totals.items()),
        key=lambda subtotal: (-subtotal.share, subtotal.name),
    )


async def _statement_page(
    request: Request[Any, Any, Any],
    raw_period: str | None,
    *,
    base: str,
    api: str,
    load: Callable[[str], Awaitable[Statement]],
    party: str,
    name: str | None = None,
    back: str | None = None,
    back_label: str | None = None,
    pharmacies: Sequence[PharmacyParty] = (),
) -> Template:
    """``base``: this page's path; ``api``: the statement's API path (the CSV download);
    ``name`` and ``back``: whose statement it is and the page to go back to (the link reads
    ``name`` unless a ``back_label``, a message key, says otherwise); ``pharmacies``: a
    hospital's own, whose statements it links to."""
    settings = settings_of(request)
    current = this_month(settings.default_time_zone)
    typed = raw_period if raw_period is not None else current
    statement, status, form = None, 200, FormState(values={"period": typed})
    try:
        period = checked_period(typed)
        statement = await load(period)
    except NotFound:
        statement = None  # a doctor's account without a doctor's profile yet
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), {"period": typed}, ["period"])
        status = problem.status
    csv_url = None
    if statement is not None:
        query = {"period": statement.period, "format": "csv", "locale": locale_of(request)}
        csv_url = f"{api}?{urlencode(query)}"
    return page(
        request,
        "settlement.html",
        status=status,
        form=form,
        party=party,
        name=name,
        back=back,
        back_label=back_label,
        statement=statement,
        base=base,
        csv_url=csv_url,
        current=current,
        previous=shifted(statement.period, -1) if statement else None,
        following=shifted(statement.period, 1) if statement else None,
        by_doctor=by_doctor(statement) if statement and party == "hospital" else [],
        pharmacies=pharmacies,
        month_zone=Formatter(locale_of(request), settings.default_time_zone).zone_name(),
    )


@get("/")
async def doctor_settlements(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    settlements: NamedDependency[Settlements],
    period: PeriodText = None,
) -> Template:
    async def load(month: str) -> Statement:
        return await settlements.my_doctor_statement(principal, month, "CNY")

    return await _statement_page(
        request,
        period,
        base="/doctor/settlements",
        api="/api/settlements/doctor",
        load=load,
        party="doctor",
    )


@get("/")
async def hospital_settlements(
    request: Request[Any, Any, Any],
    hospital_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    settlements: NamedDependency[Settlements],
    period: PeriodText = None,
) -> Template:
    async def load(month: str) -> Statement:
        return await settlements.hospital_statement(principal, hospital_id, month, "CNY")

    # Another hospital's statement is the 404 page, whatever the month typed.
    name = await settlements.visible_hospital(principal, hospital_id)
    return await _statement_page(
        request,
        period,
        base=f"/hospital/{hospital_id}/settlements",
        api=f"/api/settlements/hospitals/{hospital_id}",
        load=load,
        party="hospital",
        name=name,
        back=f"/hospital/{hospital_id}",
        pharmacies=await settlements.hospital_pharmacies(hospital_id),
    )


@get("/")
async def pharmacy_settlements(
    request: Request[Any, Any, Any],
    pharmacy_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    settlements: NamedDependency[Settlements],
    period: PeriodText = None,
) -> Template:
    async def load(month: str) -> Statement:
        return await settlements.pharmacy_statement(principal, pharmacy_id, month, "CNY")

    # Another hospital's pharmacy is the 404 page, whatever the month typed.
    pharmacy = await settlements.visible_pharmacy(principal, pharmacy_id)
    back, back_label = f"/operator/pharmacies/{pharmacy_id}", None
    if principal.role != "operator":  # its hospital's admin: the hospital's statement links here
        back, back_label = (
            f"/hospital/{pharmacy.hospital_id}/settlements",
            "settlement.back_hospital",
        )
    return await _statement_page(
        request,
        period,
        base=f"/pharmacy/{pharmacy_id}/settlements",
        api=f"/api/settlements/pharmacies/{pharmacy_id}",
        load=load,
        party="pharmacy",
        name=pharmacy.name,
        back=back,
        back_label=back_label,
    )


ROUTES = [
    Router(
        path="/",
        include_in_schema=False,
        route_handlers=[
            Router(
                path="/doctor/settlements",
                opt=allow("doctor"),
                route_handlers=[doctor_settlements],
            ),
            Router(
                path="/hospital/{hospital_id:uuid}/settlements",
                opt=allow("operator", "hospital_admin"),
                route_handlers=[hospital_settlements],
            ),
            Router(
                path="/pharmacy/{pharmacy_id:uuid}/settlements",
                opt=allow("operator", "hospital_admin"),
                route_handlers=[pharmacy_settlements],
            ),
        ],
    )
]
