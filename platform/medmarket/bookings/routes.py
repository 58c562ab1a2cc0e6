"""Bookings API for patients (hold, list, cancel), doctors (their day, cancel, outcome) and
operators (a doctor's no-show)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.bookings.endings import BookingEndings
from medmarket.bookings.listeners import BOOKING_LISTENERS
from medmarket.bookings.schemas import (
    BookingList,
    BookingOut,
    BookingRequest,
    CancelRequest,
    OutcomeRequest,
)
from medmarket.bookings.service import Bookings
from medmarket.consults.dependencies import ConsultationServices
from medmarket.errors import InvalidInput

TAGS = ["bookings"]


def provide_bookings(request: Request[Any, Any, Any]) -> Bookings:
    services = request.app.state.services
    return Bookings(services.db, services.settings.booking_hold_seconds)


def provide_endings(request: Request[Any, Any, Any]) -> BookingEndings:
    services = request.app.state.services
    return BookingEndings(services.db, services.ports.collect(BOOKING_LISTENERS))


@post("/", status_code=HTTP_201_CREATED)
async def hold_slot(
    data: JSONBody[BookingRequest],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    context: NamedDependency[AuditContext],
) -> BookingOut:
    """Hold a slot for one of your patients while you pay; 409 if someone was faster."""
    return await bookings.hold_slot(principal, data, context)


@get("/")
async def my_bookings(
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    before: FromQuery[dt.datetime | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
) -> BookingList:
    """Your bookings, newest first; page with ``before`` = the last ``created_at`` seen."""
    found = await bookings.mine(principal, before, limit + 1)
    more = len(found) > limit
    page = found[:limit]
    return BookingList(
        bookings=page, next_cursor=page[-1].created_at.isoformat() if more and page else None
    )


@get("/{booking_id:uuid}", opt=allow("patient", "doctor"))
async def get_booking(
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
) -> BookingOut:
    return await bookings.get(principal, booking_id)


@post("/{booking_id:uuid}/cancel", status_code=HTTP_200_OK)
async def cancel_by_patient(
    booking_id: FromPath[uuid.UUID],
    data: JSONBody[CancelRequest],
    principal: NamedDependency[Principal],
    endings: NamedDependency[BookingEndings],
    context: NamedDependency[AuditContext],
) -> BookingOut:
    """Cancel: a full refund before the doctor's free-cancellation window ends, then the
    doctor's late-cancellation share."""
    return await endings.cancel_by_patient(principal, booking_id, data.reason, context)


@get("/")
async def doctors_day(
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    date: FromQuery[dt.date | None] = None,
    tz: FromQuery[str] = "Asia/Shanghai",
) -> list[BookingOut]:
    """The doctor's bookings on ``date`` (default: today) in time zone ``tz``."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {tz!r}", field="tz") from None
    day = date or dt.datetime.now(zone).date()
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return await bookings.doctors_day(principal, start, end)


@post("/{booking_id:uuid}/cancel", status_code=HTTP_200_OK)
async def cancel_by_doctor(
    booking_id: FromPath[uuid.UUID],
    data: JSONBody[CancelRequest],
    principal: NamedDependency[Principal],
    endings: NamedDependency[BookingEndings],
    context: NamedDependency[AuditContext],
) -> BookingOut:
    """The doctor cancels: the patient gets a full refund and is told why."""
    return await endings.cancel_by_doctor(principal, booking_id, data.reason, context)


@post("/{booking_id:uuid}/outcome", status_code=HTTP_200_OK)
async def record_outcome(
    booking_id: FromPath[uuid.UUID],
    data: JSONBody[OutcomeRequest],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    consults: NamedDependency[ConsultationServices],
    context: NamedDependency[AuditContext],
) -> BookingOut:
    """End the visit: completed, patient no-show, or first visit not suitable online, by
    the consultation's rules (``POST /api/consultations/{id}/end``): completed and first
    visit once the patient was admitted; no-show when they never were, are not in the room
    and 10 minutes of the slot have passed."""
    await consults.consultations.end_booking(
        principal, booking_id, data.outcome, data.note, context
    )
    return await bookings.get(principal, booking_id)


@post("/{booking_id:uuid}/doctor-no-show", status_code=HTTP_200_OK)
async def doctor_no_show(
    booking_id: FromPath[uuid.UUID],
    data: JSONBody[CancelRequest],
    endings: NamedDependency[BookingEndings],
    context: NamedDependency[AuditContext],
) -> BookingOut:
    """Record that the doctor did not attend: the patient gets a full refund."""
    return await endings.doctor_no_show(booking_id, data.reason, context)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            Router(
                path="/bookings",
                opt=allow("patient"),
                route_handlers=[hold_slot, my_bookings, get_booking, cancel_by_patient],
            ),
            Router(
                path="/doctor/bookings",
                opt=allow("doctor"),
                route_handlers=[doctors_day, cancel_by_doctor, record_outcome],
            ),
            Router(
                path="/operator/bookings", opt=allow("operator"), route_handlers=[doctor_no_show]
            ),
        ],
    )
]
DEPENDENCIES = {
    "bookings": Provide(provide_bookings, sync_to_thread=False),
    "endings": Provide(provide_endings, sync_to_thread=False),
}
