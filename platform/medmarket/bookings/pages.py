"""Patients' booking pages: book a time (cite the earlier offline diagnosis, say who the visit
is for; the slot is then held while paying), my visits, a visit, cancelling it with the
refund the doctor's policy gives shown before confirming, and reviewing it afterwards.

The rules are the services' (``Bookings``, ``BookingEndings``, ``Reviews``, and
``cancellation`` for what a cancellation refunds); a problem lands beside its field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.bookings.cancellation import cancellation_terms, refund_amount
from medmarket.bookings.endings import BookingEndings
from medmarket.bookings.schemas import BookingOut, BookingRequest
from medmarket.bookings.service import Bookings, RealNameRequired
from medmarket.catalog.service import doctor_page
from medmarket.errors import Problem
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, translator
from medmarket.patients.documents import MAX_BYTES as MAX_DOCUMENT_BYTES
from medmarket.patients.documents import PatientDocuments, PatientDocumentUpload
from medmarket.patients.service import ConsentRequired, Patients
from medmarket.payments.card_pages import card_page
from medmarket.payments.service import Payments
from medmarket.prescriptions.service import Prescribing
from medmarket.referrals.partners import latest_of_visit
from medmarket.reviews.schemas import ReviewIn
from medmarket.reviews.service import Reviews
from medmarket.scheduling.service import Schedules
from medmarket.signaling.tokens import slot_window

PATIENT = allow("patient")
BOOK_FIELDS = ("patient_id", "institution", "diagnosed_on", "diagnosis", "document")
# The services name these fields by their path in the request (bookings) or by their own
# names (the patient's documents).
BOOK_ALIASES = {
    "prior_diagnosis.institution": "institution",
    "prior_diagnosis.diagnosed_on": "diagnosed_on",
    "prior_diagnosis.diagnosis": "diagnosis",
    "prior_diagnosis.document_id": "document",
    "issued_on": "diagnosed_on",
    "title": "diagnosis",
    "file": "document",
}
REQUIRED_TO_BOOK = ("patient_id", "institution", "diagnosed_on", "diagnosis")
REVIEW_FIELDS = ("rating", "body")
VISITS_PER_PAGE = 20
Text = Annotated[str | None, QueryParameter(max_length=200)]


def _db(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.services.db


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _missing_step(problem: Problem, here: str) -> Redirect | None:
    """Booking needs the real-name details and the consent first: send the patient there
    and back again."""
    query = urlencode({"next": here})
    if isinstance(problem, RealNameRequired):
        return see_other(f"/profile?{query}")
    if isinstance(problem, ConsentRequired):
        return see_other(f"/profile/consent?{query}")
    return None


# -- booking a time ----------------------------------------------------------------------------
async def _book_page(
    request: Request[Any, Any, Any],
    slot_id: uuid.UUID,
    schedules: Schedules,
    patients: Patients,
    principal: Principal,
    form: FormState,
    *,
    status: int = 200,
) -> Template:
    slot = await schedules.slot(slot_id)
    profile = await doctor_page(_db(request), slot.doctor_id)
    mine = await patients.mine(principal)
    offering = next((o for o in profile.offerings if o.kind == slot.kind), None)
    people = ([mine.me] if mine.me else []) + mine.family
    if not form.value("patient_id") and mine.me is not None:
        form.values["patient_id"] = str(mine.me.id)
    return page(
        request,
        "patient/book.html",
        status=status if slot.free or status != 200 else 409,
        form=form,
        slot=slot,
        card=profile.doctor,
        offering=offering,
        people=people,
    )


@get("/")
async def book_form(
    request: Request[Any, Any, Any],
    slot_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    schedules: NamedDependency[Schedules],
) -> Template | Redirect:
    mine = await patients.mine(principal)
    here = f"/book/{slot_id}"
    if mine.me is None:
        return see_other(f"/profile?{urlencode({'next': here})}")
    if mine.consent is None:
        return see_other(f"/profile/consent?{urlencode({'next': here})}")
    return await _book_page(request, slot_id, schedules, patients, principal, FormState())


@post("/")
async def book_submit(
    request: Request[Any, Any, Any],
    slot_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    patients: NamedDependency[Patients],
    patient_documents: NamedDependency[PatientDocuments],
    schedules: NamedDependency[Schedules],
    bookings: NamedDependency[Bookings],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    """Hold the time. A document of the earlier diagnosis, if attached, is kept with the
    patient's documents first and cited; it is not uploaded twice when the hold fails."""
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in REQUIRED_TO_BOOK}
    values["document_id"] = str(form.get("document_id") or "").strip()
    values["document_name"] = str(form.get("document_name") or "").strip()
    attached = form.get("document")
    body = {
        "slot_id": str(slot_id),
        "patient_id": values["patient_id"] or None,
        "prior_diagnosis": {
            "institution": values["institution"],
            "diagnosed_on": values["diagnosed_on"] or None,
            "diagnosis": values["diagnosis"],
            "document_id": values["document_id"] or None,
        },
    }
    try:
        booking_request = parse_form(BookingRequest, body, REQUIRED_TO_BOOK, typed=values)
        if isinstance(attached, UploadFile) and attached.filename and not values["document_id"]:
            document = await patient_documents.upload(
                principal,
                booking_request.patient_id,
                PatientDocumentUpload(
                    file=attached,
                    kind="diagnosis",
                    institution=values["institution"],
                    issued_on=values["diagnosed_on"],
                    title=values["diagnosis"][:200],
                ),
                context,
            )
            values["document_id"], values["document_name"] = str(document.id), document.title
            booking_request.prior_diagnosis.document_id = document.id
        booking = await bookings.hold_slot(principal, booking_request, context)
    except Problem as problem:
        step = _missing_step(problem, f"/book/{slot_id}")
        if step is not None:
            return step
        state = FormState.from_problem(
            problem,
            translator(request),
            values,
            BOOK_FIELDS,
            params={"megabytes": MAX_DOCUMENT_BYTES // (1024 * 1024)},
            aliases=BOOK_ALIASES,
        )
        return await _book_page(
            request, slot_id, schedules, patients, principal, state, status=problem.status
        )
    return see_other(f"/visits/{booking.id}/pay")


# -- my visits ---------------------------------------------------------------------------------
@get("/")
async def visits(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    before: Annotated[dt.datetime | None, QueryParameter()] = None,
) -> Template:
    found = await bookings.mine(principal, before, VISITS_PER_PAGE + 1)
    shown = found[:VISITS_PER_PAGE]
    more = None
    if len(found) > VISITS_PER_PAGE:
        more = "/visits?" + urlencode({"before": shown[-1].created_at.isoformat()})
    now = _now()
    return page(
        request,
        "patient/visits.html",
        visits=shown,
        upcoming=[b for b in shown if b.status in ("held", "confirmed") and b.ends_at > now],
        more_url=more,
        continued=before is not None,
    )


async def _visit_page(
    request: Request[Any, Any, Any],
    booking: BookingOut,
    principal: Principal,
    prescribing: Prescribing,
    *,
    notice: str | None = None,
    review_form: FormState | None = None,
    status: int = 200,
) -> Template:
    now = _now()
    return page(
        request,
        "patient/visit.html",
        status=status,
        booking=booking,
        hold_seconds=max(0, int((booking.hold_expires_at - now).total_seconds()))
        if booking.hold_expires_at
        else 0,
        notice=notice,
        review_form=review_form or FormState(values={"rating": "5"}),
        review=await Reviews(_db(request)).of_booking(booking.id),
        refund_fen=refund_amount(booking.price_fen, booking.refund_percent or 0),
        room_opens_at=slot_window(booking.starts_at, booking.ends_at)[0],
        prescriptions=await prescribing.listing(principal, booking.consultation_id)
        if booking.consultation_id
        else [],
        referral_id=await latest_of_visit(_db(request), principal.user_id, booking.id),
    )


@get("/{booking_id:uuid}")
async def visit(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    prescribing: NamedDependency[Prescribing],
    done: Text = None,
) -> Template:
    booking = await bookings.get(principal, booking_id)
    notice = done if done in ("paid", "cancelled", "reviewed") else None
    return await _visit_page(request, booking, principal, prescribing, notice=notice)


@get("/{booking_id:uuid}/cancel")
async def cancel_form(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
) -> Template:
    booking = await bookings.get(principal, booking_id)
    return page(
        request,
        "patient/cancel.html",
        booking=booking,
        terms=cancellation_terms(booking, _now()),
        form=FormState(),
    )


@post("/{booking_id:uuid}/cancel")
async def cancel_submit(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    endings: NamedDependency[BookingEndings],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    reason = submitted.get("reason", "").strip()
    try:
        await endings.cancel_by_patient(principal, booking_id, reason, context)
    except Problem as problem:
        booking = await bookings.get(principal, booking_id)
        form = FormState.from_problem(problem, translator(request), {"reason": reason}, ("reason",))
        return page(
            request,
            "patient/cancel.html",
            status=problem.status,
            booking=booking,
            terms=cancellation_terms(booking, _now()),
            form=form,
        )
    return see_other(f"/visits/{booking_id}?done=cancelled")


@post("/{booking_id:uuid}/review")
async def review_submit(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    reviews: NamedDependency[Reviews],
    prescribing: NamedDependency[Prescribing],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in REVIEW_FIELDS}
    try:
        review = parse_form(ReviewIn, values, ("rating",))
        await reviews.write(principal, booking_id, review, context)
    except Problem as problem:
        booking = await bookings.get(principal, booking_id)
        form = FormState.from_problem(problem, translator(request), values, REVIEW_FIELDS)
        return await _visit_page(
            request, booking, principal, prescribing, review_form=form, status=problem.status
        )
    return see_other(f"/visits/{booking_id}?done=reviewed")


# -- paying ------------------------------------------------------------------------------------
@get("/{booking_id:uuid}/pay")
async def pay_page(
    request: Request[Any, Any, Any],
    booking_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    bookings: NamedDependency[Bookings],
    payments: NamedDependency[Payments],
) -> Template | Redirect:
    """The gateway's own script collects the card; the page's script starts the payment,
    confirms it, and finishes 3-D Secure when the bank asks (``card_page``)."""
    booking = await bookings.get(principal, booking_id)
    if booking.status != "held":
        return see_other(f"/visits/{booking_id}")
    now = _now()
    card = card_page(payments)
    return page(
        request,
        "patient/pay.html",
        headers=card.headers,
        booking=booking,
        hold_seconds=max(0, int((booking.hold_expires_at - now).total_seconds()))
        if booking.hold_expires_at
        else 0,
        **card.context,
    )


ROUTES = [
    Router(
        path="/",
        opt=PATIENT,
        include_in_schema=False,
        route_handlers=[
            Router(path="/book/{slot_id:uuid}", route_handlers=[book_form, book_submit]),
            Router(
                path="/visits",
                route_handlers=[visits, visit, cancel_form, cancel_submit, review_submit, pay_page],
            ),
        ],
    )
]
