"""The doctor's schedule editor: price, slot length and cancellation policy; the weekly
windows and the exceptions, as wall-clock times in the doctor's time zone; publishing the
coming days' slots.

Rows left blank are ignored; a row the service refuses is named by its place
(``weekly[2]``) and its error shown on that row, with every row as typed.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.doctors.service import DoctorService
from medmarket.errors import FieldError, InvalidInput, NotFound, Problem
from medmarket.pages.formatting import major_to_minor
from medmarket.pages.forms import FormState, parse_form
from medmarket.pages.rendering import formatter, page, see_other, translator
from medmarket.pages.routes import COMMON_TIME_ZONES
from medmarket.scheduling.schemas import (
    AvailabilityIn,
    AvailabilityOut,
    OfferingIn,
    OfferingOut,
    PublishIn,
)
from medmarket.scheduling.service import Schedules

DOCTOR = allow("doctor")
OFFERING_FIELDS = ("price", "slot_minutes", "free_cancel_hours", "late_cancel_refund_percent")
SLOT_LENGTHS = ("10", "15", "20", "30", "45", "60")
BLANK_WEEKLY_ROWS = 3
BLANK_EXCEPTION_ROWS = 2
OVERVIEW_DAYS = 14
Text = Annotated[str | None, QueryParameter(max_length=100)]


def _rows(names: Sequence[str], columns: Sequence[list[str]]) -> list[dict[str, str]]:
    """Repeated fields (one list per column) as rows; rows left entirely blank are dropped."""
    rows = []
    for cells in itertools.zip_longest(*columns, fillvalue=""):
        row = {name: value.strip() for name, value in zip(names, cells, strict=True)}
        if any(row.values()):
            rows.append(row)
    return rows


def _offering_values(offering: OfferingOut | None) -> dict[str, str]:
    if offering is None:
        return {"slot_minutes": "30", "free_cancel_hours": "24", "late_cancel_refund_percent": "50"}
    return {
        "price": format(offering.price_fen / 100, "g"),
        "slot_minutes": str(offering.slot_minutes),
        "free_cancel_hours": str(offering.free_cancel_hours),
        "late_cancel_refund_percent": str(offering.late_cancel_refund_percent),
    }


async def _schedule_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    schedules: Schedules,
    doctors: DoctorService,
    *,
    offering_form: FormState | None = None,
    availability_form: FormState | None = None,
    weekly: list[dict[str, str]] | None = None,
    exceptions: list[dict[str, str]] | None = None,
    publish_form: FormState | None = None,
    published: dict[str, Any] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template | Redirect:
    try:
        doctor = await doctors.mine(principal)
    except NotFound:
        return see_other("/doctor/application")
    offerings = await schedules.offerings(principal)
    video = next((o for o in offerings if o.kind == "video"), None)
    saved: AvailabilityOut = await schedules.availability(principal)
    if weekly is None:
        weekly = [
            {"weekday": str(w.weekday), "starts_at": w.starts_at, "ends_at": w.ends_at}
            for w in saved.weekly
        ]
    if exceptions is None:
        exceptions = [
            {
                "on_date": e.on_date.isoformat(),
                "kind": e.kind,
                "starts_at": e.starts_at or "",
                "ends_at": e.ends_at or "",
            }
            for e in saved.exceptions
        ]
    now = dt.datetime.now(dt.UTC)
    fmt = formatter(request)
    upcoming = await schedules.slots(
        doctor.id, now, now + dt.timedelta(days=OVERVIEW_DAYS), only_free=False
    )
    overview = []  # (day, slots published, of which free)
    for day, group in itertools.groupby(upcoming, key=lambda s: fmt.local(s.starts_at).date()):
        day_slots = list(group)
        overview.append((day, len(day_slots), sum(1 for s in day_slots if s.free)))
    return page(
        request,
        "doctor/schedule.html",
        status=status,
        doctor=doctor,
        offering=video,
        offering_form=offering_form or FormState(values=_offering_values(video)),
        availability_form=availability_form or FormState(values={"time_zone": saved.time_zone}),
        # At least a row per weekday, and always a few blank ones to add more.
        weekly=weekly + [{}] * max(BLANK_WEEKLY_ROWS, 7 - len(weekly)),
        exceptions=exceptions + [{}] * BLANK_EXCEPTION_ROWS,
        publish_form=publish_form or FormState(values={"days": "28"}),
        published=published,
        overview=overview,
        slot_lengths=SLOT_LENGTHS,
        time_zones=COMMON_TIME_ZONES,
        notice=notice,
    )


@get("/")
async def schedule(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    schedules: NamedDependency[Schedules],
    doctors: NamedDependency[DoctorService],
    done: Text = None,
    added: Text = None,
    withdrawn: Text = None,
    first: Text = None,
    last: Text = None,
) -> Template | Redirect:
    published: dict[str, Any] | None = None
    if done == "published" and added and withdrawn and first and last:
        try:
            published = {
                "added": int(added),
                "withdrawn": int(withdrawn),
                "first": dt.date.fromisoformat(first),
                "last": dt.date.fromisoformat(last),
            }
        except ValueError:
            published = None  # a hand-made address: show the page without the notice
    notice = done if done in ("offering", "availability") else None
    return await _schedule_page(
        request, principal, schedules, doctors, published=published, notice=notice
    )


@post("/offering")
async def save_offering(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    schedules: NamedDependency[Schedules],
    doctors: NamedDependency[DoctorService],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in OFFERING_FIELDS}
    try:
        try:
            price_fen = major_to_minor(values["price"]) if values["price"] else None
        except ValueError:
            raise InvalidInput(
                errors=[FieldError(field="price", message="not an amount", code="amount")]
            ) from None
        body = {**values, "price_fen": price_fen}
        body.pop("price")
        offering = parse_form(OfferingIn, body, OFFERING_FIELDS, typed=values)
        await schedules.set_offering(principal, "video", offering, context)
    except Problem as problem:
        state = FormState.from_problem(
            problem, translator(request), values, OFFERING_FIELDS, aliases={"price_fen": "price"}
        )
        return await _schedule_page(
            request, principal, schedules, doctors, offering_form=state, status=problem.status
        )
    return see_other("/doctor/schedule?done=offering")


@post("/availability")
async def save_availability(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    schedules: NamedDependency[Schedules],
    doctors: NamedDependency[DoctorService],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    form = await request.form()
    weekly = _rows(
        ("weekday", "starts_at", "ends_at"),
        [[str(v) for v in form.getall(name)] for name in ("weekday", "starts_at", "ends_at")],
    )
    exceptions = _rows(
        ("on_date", "kind", "starts_at", "ends_at"),
        [
            [str(v) for v in form.getall(name)]
            for name in ("exception_on", "exception_kind", "exception_starts", "exception_ends")
        ],
    )
    time_zone = str(form.get("time_zone") or "").strip()
    body = {
        "time_zone": time_zone,
        "weekly": weekly,
        "exceptions": [{k: v or None for k, v in row.items()} for row in exceptions],
    }
    row_names = [f"weekly[{i}]" for i in range(len(weekly))]
    row_names += [f"exceptions[{i}]" for i in range(len(exceptions))]
    try:
        availability = parse_form(
            AvailabilityIn, body, ("time_zone",), typed={"time_zone": time_zone}
        )
        await schedules.set_availability(principal, availability, context)
    except Problem as problem:
        state = FormState.from_problem(
            problem, translator(request), {"time_zone": time_zone}, ["time_zone", *row_names]
        )
        return await _schedule_page(
            request,
            principal,
            schedules,
            doctors,
            availability_form=state,
            weekly=weekly,
            exceptions=exceptions,
            status=problem.status,
        )
    return see_other("/doctor/schedule?done=availability#availability")


@post("/publish")
async def publish(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    schedules: NamedDependency[Schedules],
    doctors: NamedDependency[DoctorService],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    form = await request.form()
    values = {"days": str(form.get("days") or "").strip()}
    try:
        data = parse_form(PublishIn, {"days": values["days"], "kind": "video"}, ("days",))
        result = await schedules.publish(principal, data, context)
    except Problem as problem:
        state = FormState.from_problem(
            problem,
            translator(request),
            values,
            ("days",),
            aliases={"kind": "days", "status": "days"},
        )
        return await _schedule_page(
            request, principal, schedules, doctors, publish_form=state, status=problem.status
        )
    query = urlencode(
        {
            "done": "published",
            "added": result.added,
            "withdrawn": result.withdrawn,
            "first": result.first_day.isoformat(),
            "last": result.last_day.isoformat(),
        }
    )
    return see_other(f"/doctor/schedule?{query}#publish")


ROUTES = [
    Router(
        path="/doctor/schedule",
        opt=DOCTOR,
        route_handlers=[schedule, save_offering, save_availability, publish],
        include_in_schema=False,
    )
]
