"""The orders' SQL for reading: one order as its patient or its pharmacy sees it, lists of
them, and who may see which (anyone else is told it does not exist)."""

from __future__ import annotations

import uuid

import asyncpg

from medmarket.db import Connection
from medmarket.errors import NotFound
from medmarket.orders.schemas import AddressOut, EventOut, LineOut, OrderOut, TrackingOut

NOT_FOUND = "no such order"

# An order with its patient, pharmacy, prescription's consultation and delivery.
SELECT = """
    SELECT o.*, p.consultation_id, pt.real_name AS patient_name,
           ph.name_zh AS pharmacy_name, ph.phone AS pharmacy_phone,
           concat_ws(' ', ph.province, ph.city, ph.district, ph.address) AS pharmacy_address,
           coalesce((SELECT sum(r.amount) FROM payments pay
                       JOIN payment_refunds r ON r.payment_id = pay.id
                      WHERE pay.purpose = 'pharmacy_order' AND pay.subject_id = o.id
                        AND r.status = 'succeeded'), 0)::integer AS refunded_fen,
           dl.id AS delivery_id, dl.courier_id AS delivery_courier, dl.tracking_number,
           dl.status AS delivery_status, dl.proof AS delivery_proof,
           dl.failure_reason AS delivery_failure, dl.label_url
      FROM pharmacy_orders o
      JOIN prescriptions p ON p.id = o.prescription_id
      JOIN patients pt ON pt.id = o.patient_id
      JOIN pharmacies ph ON ph.id = o.pharmacy_id
      LEFT JOIN deliveries dl ON dl.purpose = 'pharmacy_order' AND dl.subject_id = o.id
"""
_LINES = """
    SELECT i.position, i.drug_id, i.quantity, i.unit, i.unit_price_fen, i.line_fen,
           i.available, d.cold_chain,
           d.generic_name_zh || ' ' || d.strength || d.unit AS drug_name
      FROM pharmacy_order_items i JOIN drugs d ON d.id = i.drug_id
     WHERE i.order_id = $1
     ORDER BY i.position
"""
_EVENTS = """
    SELECT status, at, note FROM pharmacy_order_events WHERE order_id = $1 ORDER BY at, id
"""
# The pharmacy a pharmacist works in now.
PHARMACY_OF = """
    SELECT m.pharmacy_id FROM pharmacy_pharmacists m WHERE m.user_id = $1 AND m.left_at IS NULL
"""


def address_out(value: dict[str, object] | None) -> AddressOut | None:
    if value is None:
        return None
    return AddressOut(
        recipient=str(value["recipient"]),
        phone=str(value["phone"]),
        province=str(value["province"]),
        city=str(value["city"]),
        district=None if value.get("district") is None else str(value["district"]),
        street=str(value["street"]),
        postal_code=None if value.get("postal_code") is None else str(value["postal_code"]),
    )


def line_out(row: asyncpg.Record) -> LineOut:
    return LineOut(
        position=row["position"],
        drug_id=row["drug_id"],
        drug_name=row["drug_name"],
        quantity=float(row["quantity"]),
        unit=row["unit"],
        unit_price_fen=row["unit_price_fen"],
        line_fen=row["line_fen"],
        available=row["available"],
        cold_chain=row["cold_chain"],
    )


async def order_out(connection: Connection, row: asyncpg.Record, *, for_patient: bool) -> OrderOut:
    lines = await connection.fetch(_LINES, row["id"])
    events = await connection.fetch(_EVENTS, row["id"])
    tracking = None
    if row["delivery_id"] is not None:
        tracking = TrackingOut(
            courier_id=row["delivery_courier"],
            tracking_number=row["tracking_number"],
            status=row["delivery_status"],
            proof=row["delivery_proof"],
            failure_reason=row["delivery_failure"],
        )
    return OrderOut(
        id=row["id"],
        prescription_id=row["prescription_id"],
        patient_id=row["patient_id"],
        patient_name=row["patient_name"],
        pharmacy_id=row["pharmacy_id"],
        pharmacy_name=row["pharmacy_name"],
        pharmacy_address=row["pharmacy_address"],
        pharmacy_phone=row["pharmacy_phone"],
        fulfilment=row["fulfilment"],
        dropoff=address_out(row["dropoff"]),
        status=row["status"],
        status_changed_at=row["status_changed_at"],
        created_at=row["created_at"],
        pay_by=row["pay_by"],
        paid_at=row["paid_at"],
        lines=[line_out(line) for line in lines],
        drugs_fen=row["drugs_fen"],
        delivery_fen=row["delivery_fen"],
        total_fen=row["total_fen"],
        refunded_fen=row["refunded_fen"],
        currency=row["currency"],
        cold_chain=row["cold_chain"],
        reason=row["reason"],
        handover_code=row["handover_code"] if for_patient else None,
        tracking=tracking,
        events=[EventOut(status=e["status"], at=e["at"], note=e["note"]) for e in events],
    )


async def locked(connection: Connection, order_id: uuid.UUID) -> asyncpg.Record:
    """The order's own row (with its consultation), locked for a move."""
    row = await connection.fetchrow(
        """
        SELECT o.*, p.consultation_id FROM pharmacy_orders o
          JOIN prescriptions p ON p.id = o.prescription_id
         WHERE o.id = $1
           FOR UPDATE OF o
        """,
        order_id,
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


async def patients_order(
    connection: Connection, order_id: uuid.UUID, account_id: uuid.UUID
) -> asyncpg.Record:
    """The order if the account placed it (404 otherwise)."""
    row = await connection.fetchrow(
        SELECT + " WHERE o.id = $1 AND o.account_id = $2", order_id, account_id
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


async def pharmacy_of(connection: Connection, user_id: uuid.UUID) -> uuid.UUID:
    """The pharmacy the pharmacist works in (404 for anyone working in none)."""
    found: uuid.UUID | None = await connection.fetchval(PHARMACY_OF, user_id)
    if found is None:
        raise NotFound("you work in no pharmacy: ask an operator or your hospital's admin")
    return found


async def pharmacys_order(
    connection: Connection, order_id: uuid.UUID, pharmacy_id: uuid.UUID
) -> asyncpg.Record:
    """The order if it was placed with the pharmacy (404 otherwise)."""
    row = await connection.fetchrow(
        SELECT + " WHERE o.id = $1 AND o.pharmacy_id = $2", order_id, pharmacy_id
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row
