"""The storefront's pages: find an expert (the search API's filters, sort and keyset paging)
and a doctor's page (who they are, what a visit costs, reviews, free times by day).

Prices are typed in yuan and searched in fen; days and times are the reader's (their time
zone when signed in). The search rules live in ``catalog.search``; this only reads a form.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, cast, get_args
from urllib.parse import urlencode

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from medmarket.accounts.guards import PUBLIC
from medmarket.catalog.schemas import SearchPage, Sort
from medmarket.catalog.search import search_doctors, search_filters
from medmarket.catalog.service import doctor_page, facets
from medmarket.errors import FieldError, InvalidInput, Problem
from medmarket.pages.formatting import major_to_minor
from medmarket.pages.forms import FormState
from medmarket.pages.rendering import formatter, page, translator
from medmarket.reviews.service import Reviews
from medmarket.scheduling.schemas import SlotOut
from medmarket.scheduling.service import Schedules

FILTERS = (
    "q",
    "specialty",
    "hospital_id",
    "region",
    "language",
    "price_min",
    "price_max",
    "date",
    "sort",
)
SORTS: tuple[str, ...] = get_args(Sort)
PAGE_SIZE = 10
SLOT_DAYS = 14
REVIEWS_SHOWN = 10
Text = Annotated[str | None, QueryParameter(max_length=200)]


def _db(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.services.db


def _parse(values: dict[str, str]) -> dict[str, Any]:
    """The form's text as the search's typed parameters; every unreadable field is named."""
    errors: list[FieldError] = []
    parsed: dict[str, Any] = {}
    for name in ("q", "specialty", "region", "language"):
        parsed[name] = values[name] or None
    if values["hospital_id"]:
        try:
            parsed["hospital_id"] = uuid.UUID(values["hospital_id"])
        except ValueError:
            errors.append(FieldError(field="hospital_id", message="choose a hospital"))
    for name in ("price_min", "price_max"):
        if values[name]:
            try:
                parsed[name] = major_to_minor(values[name])
            except ValueError:
                errors.append(FieldError(field=name, message="not an amount", code="amount"))
    if values["date"]:
        try:
            parsed["date"] = dt.date.fromisoformat(values["date"])
        except ValueError:
            errors.append(FieldError(field="date", message="not a date"))
    if errors:
        raise InvalidInput("; ".join(e.message for e in errors), errors=errors)
    return parsed


def _query(values: dict[str, str], **changes: str) -> str:
    kept = {name: value for name, value in {**values, **changes}.items() if value}
    return urlencode(kept)


@get("/experts")
async def experts(
    request: Request[Any, Any, Any],
    q: Text = None,
    specialty: Text = None,
    hospital_id: Text = None,
    region: Text = None,
    language: Text = None,
    price_min: Text = None,
    price_max: Text = None,
    date: Text = None,
    sort: Text = None,
    cursor: Text = None,
) -> Template:
    raw = {
        "q": q,
        "specialty": specialty,
        "hospital_id": hospital_id,
        "region": region,
        "language": language,
        "price_min": price_min,
        "price_max": price_max,
        "date": date,
        "sort": sort,
    }
    values = {name: (value or "").strip() for name, value in raw.items()}
    if values["sort"] not in SORTS:
        values["sort"] = "rating"
    fmt = formatter(request)
    results = SearchPage(doctors=[], next_cursor=None)
    form = FormState(values=values)
    status = 200
    try:
        filters = search_filters(**_parse(values), tz=fmt.zone.key)
        sort_by = cast(Sort, values["sort"])  # one of SORTS, checked above
        results = await search_doctors(_db(request), filters, sort_by, PAGE_SIZE, cursor or None)
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values, FILTERS)
        status = problem.status
    searched = any(values[name] for name in FILTERS if name != "sort")
    return page(
        request,
        "experts.html",
        status=status,
        form=form,
        facets=await facets(_db(request)),
        sorts=SORTS,
        doctors=results.doctors,
        more_url=f"/experts?{_query(values, cursor=results.next_cursor)}"
        if results.next_cursor
        else None,
        continued=bool(cursor),
        searched=searched,
    )


@dataclass(frozen=True)
class SlotDay:
    day: dt.date
    slots: list[SlotOut]


@get("/doctors/{doctor_id:uuid}")
async def doctor(
    request: Request[Any, Any, Any],
    doctor_id: FromPath[uuid.UUID],
    schedules: NamedDependency[Schedules],
    reviews: NamedDependency[Reviews],
    before: Annotated[dt.datetime | None, QueryParameter(name="reviews_before")] = None,
) -> Template:
    profile = await doctor_page(_db(request), doctor_id)  # NotFound → the 404 page
    fmt = formatter(request)
    now = dt.datetime.now(dt.UTC)
    slots = await schedules.slots(
        doctor_id, now, now + dt.timedelta(days=SLOT_DAYS), only_free=True
    )
    days = [
        SlotDay(day=day, slots=list(group))
        for day, group in itertools.groupby(slots, key=lambda s: fmt.local(s.starts_at).date())
    ]
    shown = await reviews.of_doctor(doctor_id, before, REVIEWS_SHOWN)
    offering = next((o for o in profile.offerings if o.kind == "video"), None)
    return page(
        request,
        "doctor_profile.html",
        profile=profile,
        card=profile.doctor,
        offering=offering or (profile.offerings[0] if profile.offerings else None),
        days=days,
        slot_days=SLOT_DAYS,
        reviews=shown.reviews,
        more_reviews=f"/doctors/{doctor_id}?{urlencode({'reviews_before': shown.next_cursor})}"
        if shown.next_cursor
        else None,
        doctor_zone_differs=profile.time_zone != fmt.zone.key,
    )


ROUTES = [Router(path="/", opt=PUBLIC, route_handlers=[experts, doctor], include_in_schema=False)]
