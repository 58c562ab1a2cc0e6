"""An order's state machine and the one function that moves an order through it.

The trigger of migration 0080 refuses any other move, so this table and that trigger must
agree (a test compares them). Each move records its audit event (``action``) and a line of
the order's timeline (``pharmacy_order_events``) in the caller's transaction.
"""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.errors import Conflict

OrderStatus = Literal[
    "created",
    "paid",
    "accepted",
    "short",
    "packed",
    "dispatched",
    "in_transit",
    "delivered",
    "ready",
    "collected",
    "failed",
    "returned",
    "rejected",
    "cancelled",
    "refunded",
]
SUBJECT = "pharmacy_order"

TRANSITIONS: dict[tuple[OrderStatus, OrderStatus], str] = {
    ("created", "paid"): "pharmacy_order.paid",
    ("created", "cancelled"): "pharmacy_order.cancelled",
    ("paid", "accepted"): "pharmacy_order.accepted",
    ("paid", "short"): "pharmacy_order.short",
    ("paid", "rejected"): "pharmacy_order.rejected",
    ("paid", "cancelled"): "pharmacy_order.cancelled",
    ("short", "accepted"): "pharmacy_order.accepted",
    ("short", "rejected"): "pharmacy_order.rejected",
    ("accepted", "packed"): "pharmacy_order.packed",
    ("accepted", "ready"): "pharmacy_order.ready",
    ("packed", "dispatched"): "pharmacy_order.dispatched",
    ("dispatched", "in_transit"): "pharmacy_order.in_transit",
    ("dispatched", "delivered"): "pharmacy_order.delivered",
    ("dispatched", "failed"): "pharmacy_order.failed",
    ("in_transit", "delivered"): "pharmacy_order.delivered",
    ("in_transit", "failed"): "pharmacy_order.failed",
    ("failed", "in_transit"): "pharmacy_order.in_transit",
    ("failed", "delivered"): "pharmacy_order.delivered",
    ("failed", "returned"): "pharmacy_order.returned",
    ("ready", "collected"): "pharmacy_order.collected",
    ("returned", "refunded"): "pharmacy_order.refunded",
    ("rejected", "refunded"): "pharmacy_order.refunded",
    ("cancelled", "refunded"): "pharmacy_order.refunded",
}
# A live order holds its prescription (the unique index of migration 0080).
ENDED: frozenset[str] = frozenset({"cancelled", "rejected", "refunded"})


class WrongOrderStatus(Conflict):
    """The order's status does not allow this; ``status_now`` says what it is."""

    slug, title = "wrong-order-status", "The order's status does not allow this"

    def __init__(self, detail: str, *, status_now: str, **extra: Any) -> None:
        super().__init__(
            detail, field="status", code="wrong-status", status_now=status_now, **extra
        )


async def move(
    connection: Connection,
    order: asyncpg.Record,
    target: OrderStatus,
    context: AuditContext,
    *,
    note: str = "",
    reason: str | None = None,
    paid: bool = False,
    detail: dict[str, Any] | None = None,
) -> None:
    """Move ``order`` (a row the caller locked with FOR UPDATE) to ``target``, with its
    audit event and timeline line. Raises WrongOrderStatus when the move is not allowed."""
    current = order["status"]
    action = TRANSITIONS.get((current, target))
    if action is None:
        raise WrongOrderStatus(
            f"the order is {current}; it cannot become {target}", status_now=current
        )
    updated = await connection.execute(
        """
        UPDATE pharmacy_orders
           SET status = $3, status_changed_at = now(),
               paid_at = CASE WHEN $4 THEN now() ELSE paid_at END,
               reason = coalesce($5, reason)
         WHERE id = $1 AND status = $2
        """,
        order["id"],
        current,
        target,
        paid,
        reason,
    )
    if updated != "UPDATE 1":  # the caller did not hold the lock; never move blindly
        raise Conflict("the order changed meanwhile; reload it", code="changed")
    await connection.execute(
        "INSERT INTO pharmacy_order_events (order_id, status, actor_id, note) "
        "VALUES ($1, $2, $3, $4)",
        order["id"],
        target,
        context.actor_id,
        note[:500],
    )
    await audit.record(
        connection,
        context,
        action,
        SUBJECT,
        order["id"],
        consultation_id=order["consultation_id"],
        detail={
            "from": current,
            "to": target,
            "prescription_id": str(order["prescription_id"]),
            "pharmacy_id": str(order["pharmacy_id"]),
            **({"reason": reason} if reason else {}),
            **(detail or {}),
        },
    )


async def note(
    connection: Connection, order_id: object, status: str, text: str, context: AuditContext
) -> None:
    """A line of the timeline that moves nothing (a courier's "arrived at the depot")."""
    await connection.execute(
        "INSERT INTO pharmacy_order_events (order_id, status, actor_id, note) "
        "VALUES ($1, $2, $3, $4)",
        order_id,
        status,
        context.actor_id,
        text[:500],
    )
