"""Pharmacy-orders API (README.md beside this file): the patient orders an approved
prescription and follows the order; the pharmacy's desk fills it. Anyone else gets the 404
of an order that does not exist."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.openapi import answers
from medmarket.orders.desk import OrderDesk
from medmarket.orders.ordering import Ordering
from medmarket.orders.schemas import (
    CollectIn,
    OrderIn,
    OrderOut,
    PharmacyChoice,
    QuoteOut,
    RejectIn,
    ShortIn,
    WaybillOut,
)
from medmarket.orders.states import OrderStatus

TAGS = ["pharmacy orders"]
PATIENTS = allow("patient")
PHARMACISTS = allow("pharmacist")


def provide_ordering(request: Request[Any, Any, Any]) -> Ordering:
    return Ordering(request.app.state.services)


def provide_order_desk(request: Request[Any, Any, Any]) -> OrderDesk:
    return OrderDesk(request.app.state.services)


# -- the patient ---------------------------------------------------------------------------
@get("/pharmacies", opt=answers(409))
async def pharmacies_for_prescription(
    prescription_id: FromPath[uuid.UUID],
    ordering: NamedDependency[Ordering],
    principal: NamedDependency[Principal],
    address_id: FromQuery[uuid.UUID | None] = None,
) -> list[PharmacyChoice]:
    """The pharmacies that stock every item of the prescription, nearest first to the
    address (of the address book) when one is given; 409 if it cannot be filled now."""
    return await ordering.choices(principal, prescription_id, address_id)


@post("/quote", status_code=HTTP_200_OK, opt=answers(409, 503))
async def quote_order(
    prescription_id: FromPath[uuid.UUID],
    data: JSONBody[OrderIn],
    ordering: NamedDependency[Ordering],
    principal: NamedDependency[Principal],
) -> QuoteOut:
    """What the order would cost now: the drugs and, for delivery, the courier's quote."""
    return await ordering.quote(principal, prescription_id, data)


@post("/orders", status_code=HTTP_201_CREATED, opt=answers(409, 503))
async def place_order(
    prescription_id: FromPath[uuid.UUID],
    data: JSONBody[OrderIn],
    ordering: NamedDependency[Ordering],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """Order the prescription (once: a second live order is 409); pay before ``pay_by``."""
    return await ordering.place(principal, prescription_id, data, context)


@get("/")
async def my_orders(
    ordering: NamedDependency[Ordering], principal: NamedDependency[Principal]
) -> list[OrderOut]:
    """The account's orders, newest first."""
    return await ordering.mine(principal)


@get("/{order_id:uuid}")
async def read_order(
    order_id: FromPath[uuid.UUID],
    ordering: NamedDependency[Ordering],
    principal: NamedDependency[Principal],
) -> OrderOut:
    """An order, its timeline and its parcel's tracking."""
    return await ordering.read(principal, order_id)


@post("/{order_id:uuid}/cancel", status_code=HTTP_200_OK)
async def cancel_order(
    order_id: FromPath[uuid.UUID],
    ordering: NamedDependency[Ordering],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """Cancel before the pharmacy accepts (a paid order is refunded in full)."""
    return await ordering.cancel(principal, order_id, context)


@post("/{order_id:uuid}/agree", status_code=HTTP_200_OK)
async def agree_to_short_order(
    order_id: FromPath[uuid.UUID],
    ordering: NamedDependency[Ordering],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """Take what a short pharmacy has; the missing items are refunded."""
    return await ordering.agree_short(principal, order_id, context)


@post("/{order_id:uuid}/decline", status_code=HTTP_200_OK)
async def decline_short_order(
    order_id: FromPath[uuid.UUID],
    ordering: NamedDependency[Ordering],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """Do not take a short order: refunded in full."""
    return await ordering.decline_short(principal, order_id, context)


# -- the pharmacy's desk -------------------------------------------------------------------
@get("/")
async def desk_orders(
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
    status: FromQuery[list[OrderStatus] | None] = None,
) -> list[OrderOut]:
    """The pharmacy's orders in the statuses asked for (by default what it has to act
    on), oldest first."""
    return await desk.orders(principal, list(status) if status else None)


@get("/{order_id:uuid}")
async def desk_order(
    order_id: FromPath[uuid.UUID],
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
) -> OrderOut:
    """One of the pharmacy's orders (the patient's pickup code is not shown)."""
    return await desk.read(principal, order_id)


@get("/{order_id:uuid}/waybill", opt=answers(409))
async def order_waybill(
    order_id: FromPath[uuid.UUID],
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
) -> WaybillOut:
    """What the pharmacy prints on the parcel."""
    return await desk.waybill(principal, order_id)


@post("/{order_id:uuid}/accept", status_code=HTTP_200_OK, opt=answers(409))
async def accept_order(
    order_id: FromPath[uuid.UUID],
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """Dispense the order: 409 ``short-of-stock`` names what the stock lacks (mark it short
    or reject it)."""
    return await desk.accept(principal, order_id, context)


@post("/{order_id:uuid}/pack", status_code=HTTP_200_OK)
async def pack_order(
    order_id: FromPath[uuid.UUID],
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """Packed: for delivery, ready for the courier; for self-pickup, ready at the counter
    (the patient is told to come with their code)."""
    return await desk.pack(principal, order_id, context)


@post("/{order_id:uuid}/hand-over", status_code=HTTP_200_OK)
async def hand_over_order(
    order_id: FromPath[uuid.UUID],
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """Hand the parcel to the courier; the waybill number follows as soon as the courier
    answers."""
    return await desk.hand_over(principal, order_id, context)


@post("/{order_id:uuid}/returned", status_code=HTTP_200_OK)
async def returned_order(
    order_id: FromPath[uuid.UUID],
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """A failed delivery's parcel is back at the pharmacy: the patient is refunded in full."""
    return await desk.returned(principal, order_id, context)


@post("/{order_id:uuid}/short", status_code=HTTP_200_OK)
async def short_order(
    order_id: FromPath[uuid.UUID],
    data: JSONBody[ShortIn],
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """Some items are out of stock: the patient decides."""
    return await desk.short(principal, order_id, data, context)


@post("/{order_id:uuid}/reject", status_code=HTTP_200_OK)
async def reject_order(
    order_id: FromPath[uuid.UUID],
    data: JSONBody[RejectIn],
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """The pharmacy cannot fill it: the patient is refunded in full."""
    return await desk.reject(principal, order_id, data, context)


@post("/{order_id:uuid}/collect", status_code=HTTP_200_OK)
async def collect_order(
    order_id: FromPath[uuid.UUID],
    data: JSONBody[CollectIn],
    desk: NamedDependency[OrderDesk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> OrderOut:
    """Hand a ready order over at the counter against the patient's code."""
    return await desk.collect(principal, order_id, data, context)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            Router(
                path="/prescriptions/{prescription_id:uuid}",
                opt=PATIENTS,
                route_handlers=[pharmacies_for_prescription, quote_order, place_order],
            ),
            Router(
                path="/orders",
                opt=PATIENTS,
                route_handlers=[
                    my_orders,
                    read_order,
                    cancel_order,
                    agree_to_short_order,
                    decline_short_order,
                ],
            ),
            Router(
                path="/pharmacy/orders",
                opt=PHARMACISTS,
                route_handlers=[
                    desk_orders,
                    desk_order,
                    order_waybill,
                    short_order,
                    reject_order,
                    collect_order,
                    accept_order,
                    pack_order,
                    hand_over_order,
                    returned_order,
                ],
            ),
        ],
    )
]
DEPENDENCIES = {
    "ordering": Provide(provide_ordering, sync_to_thread=False),
    "desk": Provide(provide_order_desk, sync_to_thread=False),
}
