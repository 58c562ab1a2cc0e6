"""Dispensing an order: what the pharmacy's acceptance (or the patient's agreeing to take
what a short pharmacy has) does, in one transaction. The prescription must still be
dispensable (approved, not expired: ``prescriptions.states.require_dispensable``); the
available items are taken off the pharmacy's stock (all or nothing); the prescription
becomes ``dispensed`` and the order ``accepted``."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.errors import Conflict
from medmarket.orders.states import move
from medmarket.pharmacies.stock import Wanted, take_stock
from medmarket.prescriptions.states import change_status, require_dispensable


class ShortOfStock(Conflict):
    """The pharmacy does not have every item now: ``positions`` names those it lacks; mark
    the order short (the patient decides) or reject it."""

    slug, title = "short-of-stock", "The pharmacy does not have every item"


async def dispense(
    connection: Connection, order: asyncpg.Record, context: AuditContext, *, note: str
) -> int:
    """Dispense the order (a row locked by the caller, ``paid`` or ``short``); returns what
    its unavailable items cost (the refund a short order is owed)."""
    prescription = await connection.fetchrow(
        """
        SELECT p.id, p.status, p.expires_at, p.consultation_id,
               (SELECT n.id FROM prescriptions n WHERE n.supersedes = p.id) AS replaced_by
          FROM prescriptions p WHERE p.id = $1 FOR UPDATE
        """,
        order["prescription_id"],
    )
    assert prescription is not None
    now = await connection.fetchval("SELECT now()")
    require_dispensable(
        prescription["status"], prescription["expires_at"], prescription["replaced_by"], now
    )
    items = await connection.fetch(
        "SELECT position, drug_id, quantity, unit, line_fen, available "
        "FROM pharmacy_order_items WHERE order_id = $1 ORDER BY position",
        order["id"],
    )
    wanted = [
        Wanted(
            position=item["position"],
            drug_id=item["drug_id"],
            quantity=Decimal(item["quantity"]),
            unit=item["unit"],
        )
        for item in items
        if item["available"]
    ]
    short = await take_stock(connection, order["pharmacy_id"], wanted)
    if short:
        raise ShortOfStock(
            "the pharmacy's stock does not cover every item now",
            field="items",
            code="short-of-stock",
            positions=short,
        )
    await change_status(
        connection,
        prescription,
        "dispensed",
        context,
        detail={"order_id": str(order["id"]), "pharmacy_id": str(order["pharmacy_id"])},
    )
    await move(connection, order, "accepted", context, note=note)
    return sum(item["line_fen"] for item in items if not item["available"])
