"""Storefront API: search approved doctors, a doctor's page, the filter values."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Request, Router, get
from litestar.params import FromPath, FromQuery, QueryParameter

from medmarket.accounts.guards import PUBLIC
from medmarket.catalog.schemas import DoctorPage, Facets, SearchPage, Sort
from medmarket.catalog.search import search_doctors, search_filters
from medmarket.catalog.service import doctor_page, facets
from medmarket.db import Database

TAGS = ["storefront"]


def _db(request: Request[Any, Any, Any]) -> Database:
    return request.app.state.services.db  # type: ignore[no-any-return]


@get("/")
async def search(
    request: Request[Any, Any, Any],
    q: FromQuery[str | None] = None,
    specialty: FromQuery[str | None] = None,
    hospital_id: FromQuery[uuid.UUID | None] = None,
    region: FromQuery[str | None] = None,
    language: FromQuery[str | None] = None,
    price_min: Annotated[int | None, QueryParameter(ge=0)] = None,
    price_max: Annotated[int | None, QueryParameter(ge=0)] = None,
    date: FromQuery[dt.date | None] = None,
    tz: FromQuery[str] = "Asia/Shanghai",
    kind: FromQuery[str] = "video",
    sort: FromQuery[Sort] = "rating",
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> SearchPage:
    """Find approved doctors. ``date`` keeps doctors with a free slot that day (in ``tz``);
    ``q`` matches names, specialties, departments and hospitals; prices are in fen."""
    filters = search_filters(
        q=q,
        specialty=specialty,
        hospital_id=hospital_id,
        region=region,
        language=language,
        price_min=price_min,
        price_max=price_max,
        date=date,
        tz=tz,
        kind=kind,
    )
    return await search_doctors(_db(request), filters, sort, limit, cursor)


@get("/{doctor_id:uuid}")
async def get_doctor(request: Request[Any, Any, Any], doctor_id: FromPath[uuid.UUID]) -> DoctorPage:
    """An approved doctor's storefront page."""
    return await doctor_page(_db(request), doctor_id)


@get("/facets")
async def get_facets(request: Request[Any, Any, Any]) -> Facets:
    """The specialties, regions, languages and hospitals there are doctors for."""
    return await facets(_db(request))


ROUTES = [
    Router(
        path="/api",
        opt=PUBLIC,
        tags=TAGS,
        route_handlers=[
            Router(path="/doctors", route_handlers=[search, get_doctor]),
            Router(path="/catalog", route_handlers=[get_facets]),
        ],
    )
]
