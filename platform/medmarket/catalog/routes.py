"""Storefront API: search approved doctors, a doctor's page, the filter values."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Request, get
from litestar.params import FromPath, FromQuery, QueryParameter

from medmarket.accounts.guards import PUBLIC
from medmarket.catalog.schemas import DoctorPage, Facets, SearchPage, Sort
from medmarket.catalog.search import SearchFilters, search_doctors
from medmarket.catalog.service import doctor_page, facets
from medmarket.db import Database
from medmarket.errors import InvalidInput

TAGS = ["storefront"]


def _db(request: Request[Any, Any, Any]) -> Database:
    return request.app.state.services.db  # type: ignore[no-any-return]


def _day_range(day: dt.date, zone_name: str) -> tuple[dt.datetime, dt.datetime]:
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {zone_name!r}", field="tz") from None
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@get("/api/doctors", opt=PUBLIC, tags=TAGS)
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
    if q is not None and len(q) > 100:
        raise InvalidInput("search text is too long", field="q")
    if kind not in ("video", "text"):
        raise InvalidInput("kind is video or text", field="kind")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise InvalidInput("the lowest price is above the highest", field="price_min")
    free_from = free_until = None
    if date is not None:
        free_from, free_until = _day_range(date, tz)
    filters = SearchFilters(
        kind=kind,
        specialty=specialty,
        hospital_id=hospital_id,
        region=region,
        language=language,
        price_min=price_min,
        price_max=price_max,
        text=q,
        free_from=free_from,
        free_until=free_until,
    )
    return await search_doctors(_db(request), filters, sort, limit, cursor)


@get("/api/doctors/{doctor_id:uuid}", opt=PUBLIC, tags=TAGS)
async def get_doctor(request: Request[Any, Any, Any], doctor_id: FromPath[uuid.UUID]) -> DoctorPage:
    """An approved doctor's storefront page."""
    return await doctor_page(_db(request), doctor_id)


@get("/api/catalog/facets", opt=PUBLIC, tags=TAGS)
async def get_facets(request: Request[Any, Any, Any]) -> Facets:
    """The specialties, regions, languages and hospitals there are doctors for."""
    return await facets(_db(request))


ROUTES = [search, get_doctor, get_facets]
