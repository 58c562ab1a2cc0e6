"""The pharmacy's order desk pages, "订单 / Orders": what its pharmacists have to act on (and
what is done), one order with the step it is waiting for (accept and dispense, mark short,
reject, pack, hand to the courier, mark a returned parcel, hand over at the counter against
the patient's code), and the printable waybill. Thin handlers over ``OrderDesk``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, get_args

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import NotFound, Problem
from medmarket.orders.desk import TO_DO, OrderDesk
from medmarket.orders.pages import timeline
from medmarket.orders.schemas import CollectIn, OrderOut, RejectIn, RejectReason, ShortIn
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, translator

DONE_LATELY = (
    "dispatched",
    "in_transit",
    "delivered",
    "collected",
    "returned",
    "rejected",
    "refunded",
    "cancelled",
)
REASONS: tuple[str, ...] = get_args(RejectReason)
NOTICES = ("accepted", "short", "rejected", "packed", "handed_over", "returned", "collected")
Text = Annotated[str | None, QueryParameter(max_length=20)]


@get("/")
async def desk_orders(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
    view: Text = None,
) -> Template:
    done = view == "done"
    try:
        orders = await desk.orders(principal, list(DONE_LATELY) if done else list(TO_DO))
    except NotFound:
        return page(request, "pharmacist/orders.html", no_pharmacy=True, orders=[], done=done)
    return page(request, "pharmacist/orders.html", no_pharmacy=False, orders=orders, done=done)


async def _desk_order_page(
    request: Request[Any, Any, Any],
    order: OrderOut,
    *,
    form: FormState | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    return page(
        request,
        "pharmacist/order.html",
        status=status,
        order=order,
        timeline=timeline(translator(request), order.events),
        form=form or FormState(),
        reasons=REASONS,
        notice=notice,
    )


@get("/{order_id:uuid}")
async def desk_order(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
    done: Text = None,
) -> Template:
    order = await desk.read(principal, order_id)
    return await _desk_order_page(request, order, notice=done if done in NOTICES else None)


@get("/{order_id:uuid}/waybill")
async def waybill(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
) -> Template:
    return page(request, "pharmacist/waybill.html", waybill=await desk.waybill(principal, order_id))


async def _step(
    request: Request[Any, Any, Any],
    principal: Principal,
    desk: OrderDesk,
    order_id: uuid.UUID,
    done: str,
    step: Callable[[], Awaitable[OrderOut]],
    values: dict[str, str] | None = None,
    note_field: str = "note",
) -> Template | Redirect:
    """Take a step of the order; a refusal (of the form, or of the desk) is shown on the
    order's page, beside its field when it names one."""
    try:
        await step()
    except Problem as problem:
        order = await desk.read(principal, order_id)
        # The short and the reject forms each have their own note field.
        fields = ("code", "unavailable", "reason", note_field)
        aliases = {"note": note_field}
        form = FormState.from_problem(
            problem, translator(request), values or {}, fields, aliases=aliases
        )
        return await _desk_order_page(request, order, form=form, status=problem.status)
    return see_other(f"/pharmacy/orders/{order_id}?done={done}")


@post("/{order_id:uuid}/accept")
async def accept(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    step = partial(desk.accept, principal, order_id, context)
    return await _step(request, principal, desk, order_id, "accepted", step)


@post("/{order_id:uuid}/pack")
async def pack(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    step = partial(desk.pack, principal, order_id, context)
    return await _step(request, principal, desk, order_id, "packed", step)


@post("/{order_id:uuid}/hand-over")
async def hand_over(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    step = partial(desk.hand_over, principal, order_id, context)
    return await _step(request, principal, desk, order_id, "handed_over", step)


@post("/{order_id:uuid}/returned")
async def returned(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    step = partial(desk.returned, principal, order_id, context)
    return await _step(request, principal, desk, order_id, "returned", step)


@post("/{order_id:uuid}/short")
async def short(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await request.form()
    positions = [value for value in submitted.getall("unavailable", []) if isinstance(value, str)]
    note = str(submitted.get("short_note") or "").strip()

    async def step() -> OrderOut:
        body = parse_form(ShortIn, {"unavailable": positions, "note": note})
        return await desk.short(principal, order_id, body, context)

    values = {"short_note": note}
    return await _step(request, principal, desk, order_id, "short", step, values, "short_note")


@post("/{order_id:uuid}/reject")
async def reject(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    reason, note = (submitted.get(name, "").strip() for name in ("reason", "reject_note"))

    async def step() -> OrderOut:
        body = parse_form(RejectIn, {"reason": reason, "note": note}, required=("reason",))
        return await desk.reject(principal, order_id, body, context)

    values = {"reason": reason, "reject_note": note}
    return await _step(request, principal, desk, order_id, "rejected", step, values, "reject_note")


@post("/{order_id:uuid}/collect")
async def collect(
    request: Request[Any, Any, Any],
    order_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    desk: NamedDependency[OrderDesk],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    code = (await form_fields(request)).get("code", "").replace(" ", "").strip()

    async def step() -> OrderOut:
        body = parse_form(CollectIn, {"code": code}, required=("code",))
        return await desk.collect(principal, order_id, body, context)

    return await _step(request, principal, desk, order_id, "collected", step, {"code": code})


ROUTES = [
    Router(
        path="/pharmacy/orders",
        opt=allow("pharmacist"),
        include_in_schema=False,
        route_handlers=[
            desk_orders,
            desk_order,
            waybill,
            accept,
            pack,
            hand_over,
            returned,
            short,
            reject,
            collect,
        ],
    )
]
