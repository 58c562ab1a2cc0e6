"""Refunds, and closing attempts, as other domains ask for them: inside their own
transaction, so the cancellation and the refund it promises commit together.

    from medmarket.payments import refunds

    async with services.db.transaction() as conn:
        ...  # cancel the booking
        await refunds.request_refund(
            conn, purpose="booking", subject_id=booking_id,
            reason="patient_cancelled", key="cancel", context=context,
        )                       # amount=None: everything not yet refunded
        await refunds.cancel_open_attempts(conn, "booking", booking_id, context)

The refund row reserves the amount at once (the database refuses to refund more than was
paid) and an outbox message makes the gateway call after commit, with the refund's own
reference as idempotency key. Asking again with the same ``key`` returns the first refund.

Reasons in use: patient_cancelled, patient_cancelled_late, doctor_cancelled, doctor_no_show,
first_visit_not_suitable, pharmacist_rejected, out_of_stock, late_payment,
duplicate_payment, operator_decision, visit_requested and doctor_unanswered (a renewal the
doctor asked to see the patient for, or did not answer in time), pharmacy_rejected and
delivery_failed (a pharmacy order the pharmacy could not fill, or whose parcel came back).
"""

from __future__ import annotations

import re
import secrets
import uuid

import asyncpg

from medmarket import audit, outbox
from medmarket.audit import AuditContext
from medmarket.audit.service import SYSTEM
from medmarket.db import Connection, fetch_one
from medmarket.errors import InvalidInput
from medmarket.payments.purposes import PaymentView, RefundView
from medmarket.payments.records import payment_view, refund_view, request_close

_REASON = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def new_reference(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


async def request_refund(
    connection: Connection,
    *,
    purpose: str,
    subject_id: uuid.UUID,
    reason: str,
    key: str,
    amount: int | None = None,
    note: str | None = None,
    context: AuditContext = SYSTEM,
) -> RefundView | None:
    """Refund ``amount`` fen (None: all that is left) of what was paid for the subject.

    Returns None when nothing was paid for it, or (amount=None) nothing is left to refund.
    Raises ``InvalidInput`` for an amount above what is left.
    """
    row = await connection.fetchrow(
        """
        SELECT * FROM payments
         WHERE purpose = $1 AND subject_id = $2 AND status = 'succeeded' AND NOT is_duplicate
           FOR UPDATE
        """,
        purpose,
        subject_id,
    )
    if row is None:
        return None
    return await reserve_refund(
        connection, row, amount=amount, reason=reason, key=key, note=note, context=context
    )


async def reserve_refund(
    connection: Connection,
    payment: asyncpg.Record,
    *,
    amount: int | None,
    reason: str,
    key: str,
    note: str | None = None,
    context: AuditContext = SYSTEM,
) -> RefundView | None:
    """Refund part of a succeeded payment whose row the caller has locked."""
    if not _REASON.match(reason):
        raise InvalidInput("a reason is a lower-case word like doctor_no_show", field="reason")
    if not 1 <= len(key) <= 200:
        raise InvalidInput("a refund key has 1 to 200 characters", field="key")
    existing = await connection.fetchrow(
        "SELECT * FROM payment_refunds WHERE payment_id = $1 AND request_key = $2",
        payment["id"],
        key,
    )
    if existing is not None:
        return refund_view(existing, payment["currency"])
    if payment["status"] != "succeeded":
        raise InvalidInput("only a succeeded payment can be refunded", field="payment")
    left = payment["amount"] - payment["refunded_amount"]
    if amount is None:
        if left == 0:
            return None
        amount = left
    if not 0 < amount <= left:
        raise InvalidInput(
            f"between 1 and {left} fen of this payment can still be refunded",
            field="amount",
            code="refund-exceeds-payment",
        )
    await connection.execute(
        "UPDATE payments SET refunded_amount = refunded_amount + $2 WHERE id = $1",
        payment["id"],
        amount,
    )
    refund = await fetch_one(
        connection,
        """
        INSERT INTO payment_refunds (payment_id, reference, request_key, amount, reason, note,
                                     requested_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING *
        """,
        payment["id"],
        new_reference("rf"),
        key,
        amount,
        reason,
        note,
        context.actor_id,
    )
    await audit.record(
        connection,
        context,
        "refund.requested",
        "payment",
        payment["id"],
        detail={"refund_id": str(refund["id"]), "amount": amount, "reason": reason, "key": key},
    )
    await outbox.enqueue(
        connection,
        "payments.refund",
        {"refund_id": str(refund["id"])},
        dedupe_key=f"payments.refund:{refund['id']}",
    )
    return refund_view(refund, payment["currency"])


async def cancel_open_attempts(
    connection: Connection,
    purpose: str,
    subject_id: uuid.UUID,
    context: AuditContext = SYSTEM,
) -> list[PaymentView]:
    """Stop unfinished attempts for the subject (it can no longer be paid). Should one of
    them charge anyway, the purpose's ``on_succeeded`` still runs and the domain refunds."""
    rows = await connection.fetch(
        """
        UPDATE payments SET status = 'canceled', gateway_status = NULL
         WHERE purpose = $1 AND subject_id = $2 AND status IN ('pending', 'open')
        RETURNING *
        """,
        purpose,
        subject_id,
    )
    for row in rows:
        await audit.record(
            connection, context, "payment.canceled", "payment", row["id"], detail={"by": purpose}
        )
        if row["external_id"] is not None or row["create_attempts"] > 0:
            await request_close(connection, row["id"], row["external_id"])
    return [payment_view(row) for row in rows]
