"""Doctors' booking pages: the day's queue (their bookings of one day, in their time zone,
and the colleagues' visits they were invited to consult on), and one visit with its earlier
diagnosis, the outcome once it has begun, or cancelling it (the patient is refunded in full
and told why).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, get_args

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.bookings.endings import BookingEndings
from medmarket.bookings.schemas import BookingOut, Outcome
from medmarket.bookings.service import Bookings
from medmarket.consults.dependencies import ConsultationServices
from medmarket.errors import FieldError, InvalidInput, Problem
from medmarket.pages.forms import FormState, form_fields
from medmarket.pages.rendering import formatter, page, see_other, translator
from medmarket.prescriptions.pages import CHOICES
from medmarket.prescriptions.schemas import PrescriptionOut
from medmarket.prescriptions.service import Prescribing

DOCTOR = allow("doctor")
OUTCOMES: tuple[str, ...] = get_args(Outcome)
Text = Annotated[str | None, QueryParameter(max_length=100)]
# The visit begun just before midnight is still on the doctor's day just after it.
CARRIED_OVER = dt.timedelta(hours=1)


@get("/today")
async def today(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    consults: NamedDependency[ConsultationServices],
    date: Text = None,
) -> Template:
    fmt = formatter(request)
    now = dt.datetime.now(dt.UTC)
    local_today = now.astimezone(fmt.zone).date()
    try:
        day = dt.date.fromisoformat(date) if date else local_today
    except ValueError:
        day = local_today
    start = dt.datetime.combine(day, dt.time(), tzinfo=fmt.zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=fmt.zone)
    if day == local_today:
        start = min(start, now - CARRIED_OVER)
    visits = await bookings.doctors_day(principal, start, end)
    # Who is in the waiting room now, and each visit's room.
    consultations = {
        c.booking_id: c
        for c in await consults.consultations.listing(
            principal, booking_id=None, start=start, end=end, status=None, limit=100
        )
    }
    # Other doctors' visits this doctor was invited to consult on (multi-disciplinary).
    invitations = [c for c in consultations.values() if c.my_role == "guest"]
    live = [b for b in visits if b.status == "confirmed"]
    upcoming = [b for b in live if b.ends_at > now]
    return page(
        request,
        "doctor/today.html",
        day=day,
        is_today=day == local_today,
        previous_day=(day - dt.timedelta(days=1)).isoformat(),
        next_day=(day + dt.timedelta(days=1)).isoformat(),
        visits=visits,
        next_visit=upcoming[0] if upcoming else None,
        confirmed=len(live),
        consultations=consultations,
        invitations=invitations,
        waiting=sum(
            1 for c in consultations.values() if c.status == "waiting" and c.my_role == "doctor"
        ),
        now=now,
    )


async def _visit_page(
    request: Request[Any, Any, Any],
    booking: BookingOut,
    principal: Principal,
    prescribing: Prescribing,
    *,
    form: FormState | None = None,
    cancel_form: FormState | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    # The page offers ``booking.actions``: what the service would accept now, and
    # prescribing while the prescriptions' service would accept a prescription.
    consultation_id = booking.consultation_id
    prescriptions: list[PrescriptionOut] = []
    may_prescribe = False
    if consultation_id is not None:
        prescriptions = await prescribing.listing(principal, consultation_id)
        may_prescribe = await prescribing.may_write(principal, consultation_id)
    return page(
        request,
        "doctor/visit.html",
        status=status,
        booking=booking,
        prescriptions=prescriptions,
        may_prescribe=may_prescribe,
        choices=CHOICES,
        outcomes=OUTCOMES,
        form=form or FormState(values={"outcome": "completed"}),
        cancel_form=cancel_form or FormState(),
        notice=notice,
    )


@get("/visits/{booking_id:uuid}")
async def visit(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    prescribing: NamedDependency[Prescribing],
    done: Text = None,
) -> Template:
    booking = await bookings.get(principal, booking_id)  # the same 404 for other doctors
    notice = done if done in ("ended", "cancelled") else None
    return await _visit_page(request, booking, principal, prescribing, notice=notice)


@post("/visits/{booking_id:uuid}/outcome")
async def record_outcome(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    consults: NamedDependency[ConsultationServices],
    prescribing: NamedDependency[Prescribing],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {"outcome": submitted.get("outcome", ""), "note": submitted.get("note", "").strip()}
    try:
        if values["outcome"] not in OUTCOMES:
            raise InvalidInput(
                errors=[FieldError(field="outcome", message="choose", code="required")]
            )
        outcome: Outcome = values["outcome"]  # type: ignore[assignment]
        await consults.consultations.end_booking(
            principal, booking_id, outcome, values["note"], context
        )
    except Problem as problem:
        booking = await bookings.get(principal, booking_id)
        form = FormState.from_problem(problem, translator(request), values, ("outcome", "note"))
        return await _visit_page(
            request, booking, principal, prescribing, form=form, status=problem.status
        )
    return see_other(f"/doctor/visits/{booking_id}?done=ended")


@post("/visits/{booking_id:uuid}/cancel")
async def cancel(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    endings: NamedDependency[BookingEndings],
    prescribing: NamedDependency[Prescribing],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {"reason": submitted.get("reason", "").strip()}
    try:
        await endings.cancel_by_doctor(principal, booking_id, values["reason"], context)
    except Problem as problem:
        booking = await bookings.get(principal, booking_id)
        form = FormState.from_problem(problem, translator(request), values, ("reason",))
        return await _visit_page(
            request, booking, principal, prescribing, cancel_form=form, status=problem.status
        )
    return see_other(f"/doctor/visits/{booking_id}?done=cancelled")


ROUTES = [
    Router(
        path="/doctor",
        opt=DOCTOR,
        route_handlers=[today, visit, record_outcome, cancel],
        include_in_schema=False,
    )
]
