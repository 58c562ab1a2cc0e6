"""The worker's job "cancel unpaid pharmacy orders": an order not paid by ``pay_by`` is
cancelled, its open payment attempts closed, so its prescription may be ordered again (a
payment landing later is refunded). Each order is moved under its row lock with SKIP
LOCKED, so however many workers run it, an order is cancelled once."""

from __future__ import annotations

from medmarket.audit.service import SYSTEM
from medmarket.db import Database
from medmarket.orders import queries
from medmarket.orders.ordering import PURPOSE
from medmarket.orders.states import move
from medmarket.payments import refunds

BATCH = 100


async def cancel_unpaid(db: Database) -> int:
    cancelled = 0
    async with db.transaction() as connection:
        due = await connection.fetch(
            "SELECT id FROM pharmacy_orders WHERE status = 'created' AND pay_by <= now() "
            "ORDER BY pay_by LIMIT $1 FOR UPDATE SKIP LOCKED",
            BATCH,
        )
        for found in due:
            order = await queries.locked(connection, found["id"])
            await move(connection, order, "cancelled", SYSTEM, note="not paid in time")
            await refunds.cancel_open_attempts(connection, PURPOSE, order["id"], SYSTEM)
            cancelled += 1
    return cancelled
