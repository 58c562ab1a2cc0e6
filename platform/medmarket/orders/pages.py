"""The patient's order pages, "购药 / Get my medicine": choosing a pharmacy for an approved
prescription (nearest first to an address of the book; delivery or self-pickup), paying,
"我的订单 / My orders", and one order with its pickup code, its parcel's tracking and its
timeline in the reader's time zone. Plain forms that work without script (paying needs the
gateway's); thin handlers over ``Ordering``, which holds the rules."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, get_args

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import Problem
from medmarket.orders.ordering import Ordering
from medmarket.orders.schemas import EventOut, OrderIn, OrderOut
from medmarket.orders.states import ENDED, OrderStatus
from medmarket.pages.forms import FormState, form_fields, parse_form, problem_message
from medmarket.pages.i18n import Translator
from medmarket.pages.rendering import page, see_other, translator
from medmarket.patients.addresses import Addresses
from medmarket.payments.card_pages import card_page
from medmarket.payments.service import Payments

ORDER_FIELDS = ("pharmacy_id", "fulfilment", "address_id")
STATUSES = frozenset(get_args(OrderStatus))
# The platform's own words in a timeline, in the reader's language.
SYSTEM_NOTES = {
    "patient": "order_note.by_patient",
    "not paid in time": "order_note.not_paid",
    "paid too late: refunded": "order_note.paid_late",
}
DONE = ("paid", "cancelled", "agreed", "declined")
Done = Annotated[str | None, QueryParameter(max_length=20)]


@dataclass(frozen=True)
class TimelineLine:
    label: str
    note: str
    at: Any


def timeline(t: Translator, events: list[EventOut]) -> list[TimelineLine]:
    """An order's events as the reader reads them, newest first: the status reached (or a
    courier's step, a refund), with who said what."""
    lines = []
    for event in reversed(events):
        if event.status in STATUSES:
            label = t(f"order_status.{event.status}")
        elif event.status.startswith("courier:"):
            step = event.status.removeprefix("courier:")
            label = t("order_event.courier", step=t.get(f"delivery_step.{step}") or step)
        else:
            label = t.get(f"order_event.{event.status}") or event.status
        key = SYSTEM_NOTES.get(event.note)
        lines.append(TimelineLine(label, t(key) if key else event.note, event.at))
    return lines


# -- choosing a pharmacy --------------------------------------------------------------------
async def _order_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    prescription_id: uuid.UUID,
    ordering: Ordering,
    addresses: Addresses,
    *,
    address_id: uuid.UUID | None,
    form: FormState | None = None,
    status: int = 200,
) -> Template:
    book = await addresses.list(principal)
    chosen = next((a for a in book if a.id == address_id), None) or next(
        (a for a in book if a.is_default), book[0] if book else None
    )
    unavailable = None
    choices = []
    try:
        choices = await ordering.choices(principal, prescription_id, chosen.id if chosen else None)
    except Problem as problem:
        if problem.status == 404:
            raise
        unavailable = problem_message(translator(request), problem)
    form = form or FormState()
    if not form.value("fulfilment"):
        form.values["fulfilment"] = "delivery" if chosen else "pickup"
    if not form.value("pharmacy_id") and choices:
        form.values["pharmacy_id"] = str(choices[0].pharmacy_id)
    return page(
        request,
        "patient/order_new.html",
        status=status,
        prescription_id=prescription_id,
        addresses=book,
        chosen=chosen,
        choices=choices,
        unavailable=unavailable,
        form=form,
    )


@get("/prescriptions/{prescription_id:uuid}/order")
async def order_form(
    request: Request[Any, Any, Any],
    prescription_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    ordering: NamedDependency[Ordering],
    addresses: NamedDependency[Addresses],
    address_id: FromQuery[uuid.UUID | None] = None,
) -> Template | Redirect:
    """Choose where from; a prescription already ordered shows that order instead."""
    live = [
        order
        for order in await ordering.mine(principal)
        if order.prescription_id == prescription_id and order.status not in ENDED
    ]
    if live:
        return see_other(f"/orders/{live[0].id}")
    return await _order_page(
        request, principal, prescription_id, ordering, addresses, address_id=address_id
    )


@post("/prescriptions/{prescription_id:uuid}/order")
async def order_submit(
    request: Request[Any, Any, Any],
    prescription_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    ordering: NamedDependency[Ordering],
    addresses: NamedDependency[Addresses],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in ORDER_FIELDS}
    body: dict[str, Any] = {name: value or None for name, value in values.items()}
    if body["fulfilment"] == "pickup":
        body["address_id"] = None
    try:
        chosen = parse_form(OrderIn, body, required=("pharmacy_id", "fulfilment"))
        order = await ordering.place(principal, prescription_id, chosen, context)
    except Problem as problem:
        if problem.slug == "order-already-placed":
            return see_other(f"/orders/{problem.extra['order_id']}")
        form = FormState.from_problem(problem, translator(request), values, ORDER_FIELDS)
        address_id = uuid.UUID(values["address_id"]) if _is_uuid(values["address_id"]) else None
        return await _order_page(
            request,
            principal,
            prescription_id,
            ordering,
            addresses,
            address_id=address_id,
            form=form,
            status=problem.status,
        )
    return see_other(f"/orders/{order.id}/pay")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


# -- following orders -----------------------------------------------------------------------
@get("/orders")
async def my_orders(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    ordering: NamedDependency[Ordering],
) -> Template:
    return page(request, "patient/orders.html", orders=await ordering.mine(principal))


async def _one_order(
    request: Request[Any, Any, Any],
    order: OrderOut,
    *,
    notice: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> Template:
    return page(
        request,
        "patient/order.html",
        status=status,
        order=order,
        timeline=timeline(translator(request), order.events),
        notice=notice,
        message=message,
    )


@get("/orders/{order_id:uuid}")
async def order_page(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    ordering: NamedDependency[Ordering],
    done: Done = None,
) -> Template:
    order = await ordering.read(principal, order_id)
    return await _one_order(request, order, notice=done if done in DONE else None)


@get("/orders/{order_id:uuid}/pay")
async def pay_for_order(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    ordering: NamedDependency[Ordering],
    payments: NamedDependency[Payments],
) -> Template | Redirect:
    """The order's drugs and delivery, and the card form (``payments.card_pages``)."""
    order = await ordering.read(principal, order_id)
    if order.status != "created":
        return see_other(f"/orders/{order_id}")
    card = card_page(payments)
    return page(
        request, "patient/order_pay.html", headers=card.headers, order=order, **card.context
    )


async def _act(
    request: Request[Any, Any, Any],
    principal: Principal,
    ordering: Ordering,
    order_id: uuid.UUID,
    done: str,
    action: Callable[[], Awaitable[OrderOut]],
) -> Template | Redirect:
    """Run a patient's action on the order; a refusal is told on the order's page."""
    try:
        await action()
    except Problem as problem:
        order = await ordering.read(principal, order_id)
        message = problem_message(translator(request), problem)
        return await _one_order(request, order, message=message, status=problem.status)
    return see_other(f"/orders/{order_id}?done={done}")


@post("/orders/{order_id:uuid}/cancel")
async def cancel(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    ordering: NamedDependency[Ordering],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    action = partial(ordering.cancel, principal, order_id, context)
    return await _act(request, principal, ordering, order_id, "cancelled", action)


@post("/orders/{order_id:uuid}/agree")
async def agree(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    ordering: NamedDependency[Ordering],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    action = partial(ordering.agree_short, principal, order_id, context)
    return await _act(request, principal, ordering, order_id, "agreed", action)


@post("/orders/{order_id:uuid}/decline")
async def decline(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    ordering: NamedDependency[Ordering],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    action = partial(ordering.decline_short, principal, order_id, context)
    return await _act(request, principal, ordering, order_id, "declined", action)


ROUTES = [
    Router(
        path="/",
        opt=allow("patient"),
        include_in_schema=False,
        route_handlers=[
            order_form,
            order_submit,
            my_orders,
            order_page,
            pay_for_order,
            cancel,
            agree,
            decline,
        ],
    )
]
