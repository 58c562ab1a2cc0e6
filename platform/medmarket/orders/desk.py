"""The pharmacy's order desk: the orders placed with the pharmacist's pharmacy, and what the
pharmacy does with them: accept (dispense), mark short, reject, pack, hand to the courier,
hand over at the counter against the patient's code, and take back a returned parcel.

Who: a pharmacist working in the order's pharmacy. Anyone else, a pharmacist of another
pharmacy included, is told the order does not exist (404).
"""

from __future__ import annotations

import datetime as dt
import hmac
import uuid

import asyncpg
import msgspec

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.delivery.interface import PostalAddress
from medmarket.delivery.service import Deliveries, request_delivery
from medmarket.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from medmarket.orders import queries
from medmarket.orders.dispensing import dispense
from medmarket.orders.notices import tell_patient
from medmarket.orders.ordering import PURPOSE, parcel_of, pharmacy_postal
from medmarket.orders.schemas import (
    CollectIn,
    OrderOut,
    RejectIn,
    ShortIn,
    WaybillOut,
)
from medmarket.orders.states import SUBJECT, WrongOrderStatus, move
from medmarket.payments import refunds
from medmarket.services import Services

# Wrong pickup codes an order takes in a window before the counter must wait: six digits
# are a million codes, so guessing at the counter gets nowhere.
WRONG_CODES_ALLOWED = 5
WRONG_CODE_WINDOW = dt.timedelta(minutes=15)
_RECENT_WRONG_CODES = """
    SELECT occurred_at FROM audit_events
     WHERE subject_type = 'pharmacy_order' AND subject_id = $1
       AND action = 'pharmacy_order.wrong_pickup_code' AND occurred_at > now() - $2::interval
     ORDER BY occurred_at DESC
"""
# What a desk lists: by default what the pharmacy has to act on.
TO_DO = ("paid", "short", "accepted", "packed", "ready", "failed")


class OrderDesk:
    def __init__(self, services: Services) -> None:
        self.db: Database = services.db
        self.deliveries = Deliveries(services)

    async def _pharmacy(self, connection: Connection, principal: Principal) -> uuid.UUID:
        if principal.role != "pharmacist":
            raise NotFound(queries.NOT_FOUND)
        return await queries.pharmacy_of(connection, principal.user_id)

    async def _order(
        self, connection: Connection, principal: Principal, order_id: uuid.UUID
    ) -> asyncpg.Record:
        """The pharmacy's order, locked (404 for another pharmacy's)."""
        pharmacy_id = await self._pharmacy(connection, principal)
        await queries.pharmacys_order(connection, order_id, pharmacy_id)
        return await queries.locked(connection, order_id)

    async def _out(self, connection: Connection, order_id: uuid.UUID) -> OrderOut:
        row = await connection.fetchrow(queries.SELECT + " WHERE o.id = $1", order_id)
        assert row is not None
        return await queries.order_out(connection, row, for_patient=False)

    async def orders(self, principal: Principal, statuses: list[str] | None) -> list[OrderOut]:
        """The pharmacy's orders in the statuses asked for (what it has to act on unless
        told), the oldest first."""
        async with self.db.connection() as connection:
            pharmacy_id = await self._pharmacy(connection, principal)
            rows = await connection.fetch(
                queries.SELECT + " WHERE o.pharmacy_id = $1 AND o.status = ANY($2::text[])"
                " ORDER BY o.paid_at NULLS LAST, o.created_at, o.id LIMIT 200",
                pharmacy_id,
                statuses or list(TO_DO),
            )
            return [await queries.order_out(connection, row, for_patient=False) for row in rows]

    async def read(self, principal: Principal, order_id: uuid.UUID) -> OrderOut:
        async with self.db.connection() as connection:
            pharmacy_id = await self._pharmacy(connection, principal)
            row = await queries.pharmacys_order(connection, order_id, pharmacy_id)
            return await queries.order_out(connection, row, for_patient=False)

    async def accept(
        self, principal: Principal, order_id: uuid.UUID, context: AuditContext
    ) -> OrderOut:
        """Dispense the order: 409 ``short-of-stock`` naming the items the stock lacks."""
        async with self.db.transaction() as connection:
            order = await self._order(connection, principal, order_id)
            if order["status"] != "paid":
                raise WrongOrderStatus(
                    f"the order is {order['status']}; only a paid order is accepted",
                    status_now=order["status"],
                )
            await dispense(connection, order, context, note="")
            await tell_patient(connection, order, "pharmacy_order.accepted", {})
            return await self._out(connection, order_id)

    async def short(
        self, principal: Principal, order_id: uuid.UUID, body: ShortIn, context: AuditContext
    ) -> OrderOut:
        """Some items are out of stock: the patient decides whether to take the rest (and be
        refunded the missing ones) or not (refunded in full)."""
        async with self.db.transaction() as connection:
            order = await self._order(connection, principal, order_id)
            if order["status"] != "paid":
                raise WrongOrderStatus(
                    f"the order is {order['status']}; only a paid order can be short",
                    status_now=order["status"],
                )
            positions = set(body.unavailable)
            ordered = {
                row["position"]
                for row in await connection.fetch(
                    "SELECT position FROM pharmacy_order_items WHERE order_id = $1", order_id
                )
            }
            if not positions <= ordered:
                raise InvalidInput(
                    f"the order has no item {sorted(positions - ordered)}", field="unavailable"
                )
            if positions == ordered:
                raise InvalidInput(
                    "nothing of the order is available: reject it instead", field="unavailable"
                )
            await connection.execute(
                "UPDATE pharmacy_order_items SET available = false "
                "WHERE order_id = $1 AND position = ANY($2::integer[])",
                order_id,
                sorted(positions),
            )
            await move(
                connection,
                order,
                "short",
                context,
                note=body.note,
                detail={"unavailable": sorted(positions)},
            )
            await tell_patient(
                connection, order, "pharmacy_order.short", {"note": body.note}, urgency="high"
            )
            return await self._out(connection, order_id)

    async def reject(
        self, principal: Principal, order_id: uuid.UUID, body: RejectIn, context: AuditContext
    ) -> OrderOut:
        """The pharmacy cannot fill the order: refunded in full."""
        async with self.db.transaction() as connection:
            order = await self._order(connection, principal, order_id)
            await move(connection, order, "rejected", context, note=body.note, reason=body.reason)
            await refunds.request_refund(
                connection,
                purpose=PURPOSE,
                subject_id=order_id,
                reason="out_of_stock" if body.reason == "out_of_stock" else "pharmacy_rejected",
                key="rejected",
                context=context,
            )
            await tell_patient(
                connection,
                order,
                "pharmacy_order.rejected",
                {"reason": body.reason},
                urgency="high",
            )
            return await self._out(connection, order_id)

    async def pack(
        self, principal: Principal, order_id: uuid.UUID, context: AuditContext
    ) -> OrderOut:
        """Packed: for delivery, ready for the courier; for self-pickup, ready at the
        counter (the patient is told to come with their code)."""
        async with self.db.transaction() as connection:
            order = await self._order(connection, principal, order_id)
            pickup = order["fulfilment"] == "pickup"
            await move(connection, order, "ready" if pickup else "packed", context)
            if pickup:
                await tell_patient(connection, order, "pharmacy_order.ready", {}, urgency="high")
            return await self._out(connection, order_id)

    async def hand_over(
        self, principal: Principal, order_id: uuid.UUID, context: AuditContext
    ) -> OrderOut:
        """Hand the packed parcel to the courier: the delivery is committed with the order's
        move, then dispatched (the waybill number comes back at once when the courier
        answers, else from the outbox a little later)."""
        async with self.db.transaction() as connection:
            order = await self._order(connection, principal, order_id)
            await move(connection, order, "dispatched", context)
            items = await connection.fetchval(
                "SELECT count(*) FROM pharmacy_order_items WHERE order_id = $1 AND available",
                order_id,
            )
            delivery = await request_delivery(
                connection,
                courier_id=order["courier_id"],
                purpose=PURPOSE,
                subject_id=order_id,
                pickup=await pharmacy_postal(connection, order["pharmacy_id"]),
                dropoff=msgspec.convert(order["dropoff"], PostalAddress),
                parcel=parcel_of(int(items), order["cold_chain"], order["drugs_fen"]),
                handover_code=order["handover_code"],
                context=context,
            )
            await tell_patient(connection, order, "pharmacy_order.dispatched", {})
        await self.deliveries.try_dispatch(delivery.id)
        async with self.db.connection() as connection:
            return await self._out(connection, order_id)

    async def waybill(self, principal: Principal, order_id: uuid.UUID) -> WaybillOut:
        async with self.db.connection() as connection:
            pharmacy_id = await self._pharmacy(connection, principal)
            row = await queries.pharmacys_order(connection, order_id, pharmacy_id)
            if row["fulfilment"] != "delivery" or row["delivery_id"] is None:
                raise Conflict(
                    "the order has not been handed to a courier", field="status", code="no-waybill"
                )
            sender = queries.address_out(
                msgspec.to_builtins(await pharmacy_postal(connection, pharmacy_id))
            )
            recipient = queries.address_out(row["dropoff"])
            assert sender is not None and recipient is not None
            items = await connection.fetchval(
                "SELECT count(*) FROM pharmacy_order_items WHERE order_id = $1 AND available",
                order_id,
            )
            return WaybillOut(
                order_id=order_id,
                courier_id=row["delivery_courier"],
                tracking_number=row["tracking_number"],
                label_url=row["label_url"],
                cold_chain=row["cold_chain"],
                sender=sender,
                recipient=recipient,
                items=int(items),
            )

    async def collect(
        self, principal: Principal, order_id: uuid.UUID, body: CollectIn, context: AuditContext
    ) -> OrderOut:
        """The patient collects at the counter, showing their code (a wrong code is
        refused, and the attempt kept in the audit trail)."""
        async with self.db.transaction() as connection:
            order = await self._order(connection, principal, order_id)
            if order["status"] != "ready":
                raise WrongOrderStatus(
                    f"the order is {order['status']}; it is not waiting at the counter",
                    status_now=order["status"],
                )
            await _refuse_guessing(connection, order_id)
            right = hmac.compare_digest(order["handover_code"], body.code)
            if right:
                await move(connection, order, "collected", context)
                await tell_patient(connection, order, "pharmacy_order.collected", {})
            else:
                await audit.record(
                    connection,
                    context,
                    "pharmacy_order.wrong_pickup_code",
                    SUBJECT,
                    order_id,
                    outcome="failed",
                    consultation_id=order["consultation_id"],
                )
        if not right:
            raise InvalidInput("this is not the order's pickup code", field="code")
        async with self.db.connection() as connection:
            return await self._out(connection, order_id)

    async def returned(
        self, principal: Principal, order_id: uuid.UUID, context: AuditContext
    ) -> OrderOut:
        """The parcel of a failed delivery is back at the pharmacy: refunded in full."""
        async with self.db.transaction() as connection:
            order = await self._order(connection, principal, order_id)
            await mark_returned(connection, order, context)
            return await self._out(connection, order_id)


async def _refuse_guessing(connection: Connection, order_id: uuid.UUID) -> None:
    """429 once the order has taken too many wrong codes lately (the order is locked, so
    attempts at once are counted one after another)."""
    wrong = await connection.fetch(_RECENT_WRONG_CODES, str(order_id), WRONG_CODE_WINDOW)
    if len(wrong) >= WRONG_CODES_ALLOWED:
        now: dt.datetime = await connection.fetchval("SELECT now()")
        oldest = wrong[WRONG_CODES_ALLOWED - 1]["occurred_at"]
        wait = max(1, int((oldest + WRONG_CODE_WINDOW - now).total_seconds()) + 1)
        raise TooManyRequests(
            "too many wrong pickup codes for this order; ask the patient to check theirs",
            retry_after=wait,
        )


async def mark_returned(
    connection: Connection, order: asyncpg.Record, context: AuditContext
) -> None:
    """A failed delivery's parcel came back: the order is returned and refunded in full."""
    await move(connection, order, "returned", context)
    await refunds.request_refund(
        connection,
        purpose=PURPOSE,
        subject_id=order["id"],
        reason="delivery_failed",
        key="returned",
        context=context,
    )
    await tell_patient(connection, order, "pharmacy_order.returned", {}, urgency="high")
