"""Schedule API: a doctor's prices, weekly availability and published slots; anyone may
see an approved doctor's free slots."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Request, Router, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from medmarket.accounts.guards import PUBLIC, allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import InvalidInput
from medmarket.openapi import answers
from medmarket.scheduling.schemas import (
    AvailabilityIn,
    AvailabilityOut,
    OfferingIn,
    OfferingKind,
    OfferingOut,
    PublishIn,
    PublishOut,
    SlotOut,
)
from medmarket.scheduling.service import Schedules

# A doctor's own schedule: 404 until they have applied.
DOCTOR = {**allow("doctor"), **answers(404)}
TAGS = ["schedules"]
MAX_RANGE = dt.timedelta(days=62)


def provide_schedules(request: Request[Any, Any, Any]) -> Schedules:
    return Schedules(request.app.state.services.db)


@put("/offerings/{kind:str}")
async def set_offering(
    kind: FromPath[OfferingKind],
    data: JSONBody[OfferingIn],
    principal: NamedDependency[Principal],
    schedules: NamedDependency[Schedules],
    context: NamedDependency[AuditContext],
) -> OfferingOut:
    """Price (fen), slot length and cancellation policy of one consultation kind; for
    ``renewal`` (renewing a prescription without a call) the price alone, and whether
    renewals are offered at all."""
    return await schedules.set_offering(principal, kind, data, context)


@get("/availability")
async def get_availability(
    principal: NamedDependency[Principal], schedules: NamedDependency[Schedules]
) -> AvailabilityOut:
    return await schedules.availability(principal)


@put("/availability")
async def set_availability(
    data: JSONBody[AvailabilityIn],
    principal: NamedDependency[Principal],
    schedules: NamedDependency[Schedules],
    context: NamedDependency[AuditContext],
) -> AvailabilityOut:
    """Replace the weekly windows and exceptions (wall-clock times in ``time_zone``)."""
    return await schedules.set_availability(principal, data, context)


@post("/slots/publish")
async def publish_slots(
    data: JSONBody[PublishIn],
    principal: NamedDependency[Principal],
    schedules: NamedDependency[Schedules],
    context: NamedDependency[AuditContext],
) -> PublishOut:
    """Generate the coming days' slots from the availability and publish them."""
    return await schedules.publish(principal, data, context)


@get("/")
async def doctor_slots(
    doctor_id: FromPath[uuid.UUID],
    schedules: NamedDependency[Schedules],
    start: Annotated[dt.datetime | None, QueryParameter(name="from")] = None,
    end: Annotated[dt.datetime | None, QueryParameter(name="to")] = None,
    only_free: Annotated[bool, QueryParameter(name="free")] = True,
) -> list[SlotOut]:
    """An approved doctor's slots between ``from`` and ``to`` (ISO 8601, default: 14 days)."""
    start = start or dt.datetime.now(dt.UTC)
    end = end or start + dt.timedelta(days=14)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("give times with a UTC offset", field="from")
    if end <= start or end - start > MAX_RANGE:
        raise InvalidInput("the range must be positive and at most 62 days", field="to")
    return await schedules.slots(doctor_id, start, end, only_free=only_free)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            # The doctor's own schedule.
            Router(
                path="/doctor",
                opt=DOCTOR,
                route_handlers=[set_offering, get_availability, set_availability, publish_slots],
            ),
            Router(
                path="/doctors/{doctor_id:uuid}/slots", opt=PUBLIC, route_handlers=[doctor_slots]
            ),
        ],
    )
]
DEPENDENCIES = {"schedules": Provide(provide_schedules, sync_to_thread=False)}
