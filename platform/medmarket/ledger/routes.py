"""Settlement statements (JSON or CSV) and hospital agreements.

Operators see every statement; a doctor sees their own, a hospital admin their hospital's
and its own pharmacies'. Anyone else gets the same 404 as for a doctor, hospital or
pharmacy that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.ledger.schemas import AgreementIn, AgreementOut, Statement
from medmarket.ledger.statements import Settlements, statement_csv
from medmarket.openapi import JSON, answers, responds_with

TAGS = ["settlement"]
PeriodQuery = Annotated[
    str, QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="a month: 2026-03")
]
CurrencyQuery = Annotated[str, QueryParameter(pattern=r"^[A-Z]{3}$")]
FormatQuery = Annotated[
    Literal["json", "csv"], QueryParameter(name="format", description="json or csv")
]
LocaleQuery = Annotated[Literal["zh-CN", "en"], QueryParameter(description="CSV headings")]
CSV = "text/csv"
AS_JSON_OR_CSV = responds_with(JSON, CSV)  # ?format=csv


def provide_settlements(request: Request[Any, Any, Any]) -> Settlements:
    services = request.app.state.services
    return Settlements(services.db, services.settings)


def _render(statement: Statement, output: str, locale: str) -> Response[Any]:
    if output == "json":
        return Response(statement)
    filename = f"settlement-{statement.party}-{statement.party_id}-{statement.period}.csv"
    # A byte-order mark, so spreadsheet programs read the Chinese headings as UTF-8.
    return Response(
        "\ufeff" + statement_csv(statement, locale),
        media_type="text/csv",  # litestar adds "; charset=utf-8" to text types itself
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@get("/{doctor_id:uuid}", opt=AS_JSON_OR_CSV)
async def doctor_statement(
    doctor_id: FromPath[uuid.UUID],
    period: PeriodQuery,
    settlements: NamedDependency[Settlements],
    principal: NamedDependency[Principal],
    currency: CurrencyQuery = "CNY",
    output: FormatQuery = "json",
    locale: LocaleQuery = "zh-CN",
) -> Response[Statement]:
    """A doctor's earnings in a month: each charge and refund with the doctor's share."""
    statement = await settlements.doctor_statement(principal, doctor_id, period, currency)
    return _render(statement, output, locale)


@get(
    "/",
    # 404 until the doctor has applied
    opt={**answers(404), **AS_JSON_OR_CSV},
)
async def my_statement(
    period: PeriodQuery,
    settlements: NamedDependency[Settlements],
    principal: NamedDependency[Principal],
    currency: CurrencyQuery = "CNY",
    output: FormatQuery = "json",
    locale: LocaleQuery = "zh-CN",
) -> Response[Statement]:
    """The signed-in doctor's own statement."""
    statement = await settlements.my_doctor_statement(principal, period, currency)
    return _render(statement, output, locale)


@get("/", opt=AS_JSON_OR_CSV)
async def hospital_statement(
    hospital_id: FromPath[uuid.UUID],
    period: PeriodQuery,
    settlements: NamedDependency[Settlements],
    principal: NamedDependency[Principal],
    currency: CurrencyQuery = "CNY",
    output: FormatQuery = "json",
    locale: LocaleQuery = "zh-CN",
) -> Response[Statement]:
    """A hospital's share of every charge and refund in a month, by doctor."""
    statement = await settlements.hospital_statement(principal, hospital_id, period, currency)
    return _render(statement, output, locale)


@get("/", opt=AS_JSON_OR_CSV)
async def pharmacy_statement(
    pharmacy_id: FromPath[uuid.UUID],
    period: PeriodQuery,
    settlements: NamedDependency[Settlements],
    principal: NamedDependency[Principal],
    currency: CurrencyQuery = "CNY",
    output: FormatQuery = "json",
    locale: LocaleQuery = "zh-CN",
) -> Response[Statement]:
    """A pharmacy's share of every charge and refund in a month (its orders, less the
    platform's commission)."""
    statement = await settlements.pharmacy_statement(principal, pharmacy_id, period, currency)
    return _render(statement, output, locale)


@get("/agreement")
async def get_agreement(
    hospital_id: FromPath[uuid.UUID],
    settlements: NamedDependency[Settlements],
    principal: NamedDependency[Principal],
) -> AgreementOut:
    """The shares in force now (the platform default while the hospital has none)."""
    return await settlements.agreement(principal, hospital_id)


@post(
    "/agreement",
    opt=allow("operator"),
    status_code=HTTP_201_CREATED,
    tags=TAGS,
)
async def set_agreement(
    hospital_id: FromPath[uuid.UUID],
    data: JSONBody[AgreementIn],
    settlements: NamedDependency[Settlements],
    context: NamedDependency[AuditContext],
) -> AgreementOut:
    """Record a new agreement; charges from ``effective_from`` on are split by it."""
    return await settlements.set_agreement(hospital_id, data, context)


ROUTES = [
    Router(
        path="/api/settlements",
        tags=TAGS,
        route_handlers=[
            Router(
                path="/doctors", opt=allow("operator", "doctor"), route_handlers=[doctor_statement]
            ),
            Router(path="/doctor", opt=allow("doctor"), route_handlers=[my_statement]),
            Router(
                path="/hospitals/{hospital_id:uuid}",
                opt=allow("operator", "hospital_admin"),
                route_handlers=[hospital_statement, get_agreement, set_agreement],
            ),
            Router(
                path="/pharmacies/{pharmacy_id:uuid}",
                opt=allow("operator", "hospital_admin"),
                route_handlers=[pharmacy_statement],
            ),
        ],
    )
]
DEPENDENCIES = {"settlements": Provide(provide_settlements, sync_to_thread=False)}
