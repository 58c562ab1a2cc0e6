"""What a gateway says about a payment attempt, applied to our row: one place for every path
that learns something (the confirm call, a webhook, reconciliation), so each fact has its
effect exactly once whatever order the news arrives in.

The state machine: pending → open → succeeded | failed | canceled. "succeeded" is final and
entered once: that transition books the ledger and calls the purpose's ``on_succeeded``,
guarded by ``UPDATE ... WHERE status <> 'succeeded'`` under a row lock. A failed or
canceled attempt may still turn out to have charged (a cancel racing a payment): money was
taken, so it is recorded; if the payable was already paid by another attempt it is marked a
duplicate and refunded in full. News older than what we already know is ignored.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection, fetch_one
from medmarket.ledger.service import ChargeToBook, Rates, book_charge, book_refund, rates_for
from medmarket.ledger.split import yuan
from medmarket.payments.interface import GatewayPayment, GatewayRefund, GatewayStatus, Money
from medmarket.payments.purposes import installed_purposes
from medmarket.payments.records import (
    notify_payer,
    payment_row,
    payment_view,
    refund_row,
    refund_view,
    request_close,
)
from medmarket.payments.refunds import reserve_refund
from medmarket.services import Services

log = logging.getLogger("medmarket.payments")

_PAYABLE_LOCK = 0x7061_7932  # "pay2": one payable's successes are decided one at a time
_ENDED = {"failed", "canceled"}


def attempt_status(gateway_status: GatewayStatus) -> str:
    if gateway_status in ("succeeded", "failed", "canceled"):
        return gateway_status
    return "open"


async def apply_payment_state(
    connection: Connection,
    services: Services,
    payment_id: uuid.UUID,
    state: GatewayPayment,
    *,
    source: str,
    context: AuditContext,
    event_at: dt.datetime | None = None,
) -> asyncpg.Record:
    """Apply ``state`` inside the caller's transaction; returns the row as it now stands."""
    row = await payment_row(connection, payment_id, lock=True)
    if row is None:
        raise LookupError(f"payment {payment_id} does not exist")
    if row["external_id"] is None:
        # The gateway has it now: if we had given up on the attempt, close it there as well.
        row = await fetch_one(
            connection,
            """
            UPDATE payments SET external_id = $2, closed_at = NULL WHERE id = $1 RETURNING *
            """,
            payment_id,
            state.external_id,
        )
        if row["status"] in _ENDED and state.status not in ("succeeded", "canceled"):
            await request_close(connection, payment_id, state.external_id)
    elif row["external_id"] != state.external_id:
        return row  # another gateway object with our reference; not this attempt's
    target = attempt_status(state.status)
    current = row["status"]
    if current == "succeeded":
        return row
    if target == "succeeded":
        expected = Money(row["amount"], row["currency"])
        if state.amount != expected:
            log.error(
                "payment %s: gateway charged %s, expected %s", payment_id, state.amount, expected
            )
            await audit.record(
                connection,
                context,
                "payment.amount_mismatch",
                "payment",
                payment_id,
                outcome="failed",
                detail={"charged": state.amount.amount, "expected": expected.amount},
            )
            return row
        return await _succeeded(connection, services, row, state, source, context, event_at)
    if target in _ENDED:
        if current in _ENDED:
            if state.status == "canceled" and row["closed_at"] is None:
                return await fetch_one(
                    connection,
                    "UPDATE payments SET closed_at = now() WHERE id = $1 RETURNING *",
                    payment_id,
                )
            return row
        return await _ended(connection, services, row, state, target, source, context, event_at)
    # Still waiting for the payer: only news newer than what we have moves it (an answer to
    # our own call counts as news from now).
    if current in _ENDED or (event_at and row["last_event_at"] and event_at < row["last_event_at"]):
        return row
    return await fetch_one(
        connection,
        """
        UPDATE payments SET status = 'open', gateway_status = $2,
                            last_event_at = greatest(last_event_at, coalesce($3, now()))
         WHERE id = $1 RETURNING *
        """,
        payment_id,
        state.raw_status or state.status,
        event_at,
    )


async def _succeeded(
    connection: Connection,
    services: Services,
    row: asyncpg.Record,
    state: GatewayPayment,
    source: str,
    context: AuditContext,
    event_at: dt.datetime | None,
) -> asyncpg.Record:
    await connection.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        _PAYABLE_LOCK,
        f"{row['purpose']}:{row['subject_id']}",
    )
    duplicate = await connection.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM payments
                        WHERE purpose = $1 AND subject_id = $2 AND id <> $3
                          AND status = 'succeeded' AND NOT is_duplicate)
        """,
        row["purpose"],
        row["subject_id"],
        row["id"],
    )
    row = await fetch_one(
        connection,
        """
        UPDATE payments
           SET status = 'succeeded', is_duplicate = $2, succeeded_at = now(),
               gateway_status = $3, failure_code = NULL, failure_message = NULL,
               last_event_at = greatest(last_event_at, $4)
         WHERE id = $1 RETURNING *
        """,
        row["id"],
        duplicate,
        state.raw_status or state.status,
        event_at,
    )
    settings = services.settings
    if row["pharmacy_id"] is not None:  # the platform's commission; the rest the pharmacy's
        rates = Rates(settings.pharmacy_platform_rate_bp, 0)
    else:
        rates = await rates_for(
            connection,
            row["hospital_id"],
            row["succeeded_at"],
            Rates(settings.platform_rate_bp, settings.hospital_rate_bp),
        )
    shares = await book_charge(
        connection,
        ChargeToBook(
            payment_id=row["id"],
            amount=row["amount"],
            currency=row["currency"],
            gateway_id=row["gateway_id"],
            doctor_id=row["doctor_id"],
            hospital_id=row["hospital_id"],
            occurred_at=row["succeeded_at"],
            pharmacy_id=row["pharmacy_id"],
        ),
        rates,
    )
    await audit.record(
        connection,
        context,
        "payment.succeeded",
        "payment",
        row["id"],
        detail={
            "purpose": row["purpose"],
            "subject_id": str(row["subject_id"]),
            "amount": row["amount"],
            "currency": row["currency"],
            "external_id": row["external_id"],
            "duplicate": duplicate,
            "source": source,
            "platform_share": shares.platform,
            "hospital_share": shares.hospital,
            "doctor_share": shares.doctor,
            "pharmacy_share": shares.pharmacy,
        },
    )
    if duplicate:
        log.warning("payment %s charged a payable that was already paid; refunding", row["id"])
        await reserve_refund(
            connection,
            row,
            amount=None,
            reason="duplicate_payment",
            key="duplicate",
            context=context,
        )
        refunding = await payment_row(connection, row["id"])
        assert refunding is not None
        return refunding
    purpose = installed_purposes(services).find(row["purpose"])
    if purpose is None:
        log.error("payment %s succeeded for unknown purpose %r", row["id"], row["purpose"])
    else:
        await purpose.on_succeeded(connection, payment_view(row))
    await notify_payer(
        connection,
        row["payer_id"],
        "payment.succeeded",
        f"payment.succeeded:{row['id']}",
        {"amount": yuan(row["amount"]), "currency": row["currency"], "purpose": row["purpose"]},
    )
    return row


async def _ended(
    connection: Connection,
    services: Services,
    row: asyncpg.Record,
    state: GatewayPayment,
    target: str,
    source: str,
    context: AuditContext,
    event_at: dt.datetime | None,
) -> asyncpg.Record:
    row = await fetch_one(
        connection,
        """
        UPDATE payments
           SET status = $2, gateway_status = $3, failure_code = $4, failure_message = $5,
               closed_at = CASE WHEN $6 THEN now() END,
               last_event_at = greatest(last_event_at, $7)
         WHERE id = $1 RETURNING *
        """,
        row["id"],
        target,
        state.raw_status or state.status,
        state.failure_code,
        state.failure_message,
        state.status == "canceled",
        event_at,
    )
    await audit.record(
        connection,
        context,
        f"payment.{target}",
        "payment",
        row["id"],
        outcome="success" if target == "canceled" else "failed",
        detail={
            "purpose": row["purpose"],
            "subject_id": str(row["subject_id"]),
            "failure_code": state.failure_code,
            "source": source,
        },
    )
    if row["closed_at"] is None:
        await request_close(connection, row["id"], row["external_id"])
    if target == "failed":
        purpose = installed_purposes(services).find(row["purpose"])
        if purpose is not None:
            await purpose.on_failed(connection, payment_view(row))
    return row


async def apply_refund_state(
    connection: Connection,
    services: Services,
    refund_id: uuid.UUID,
    state: GatewayRefund,
    *,
    source: str,
    context: AuditContext,
) -> asyncpg.Record:
    """Apply what the gateway says about a refund; a refund succeeds (and is booked) once."""
    payment_id = await connection.fetchval(
        "SELECT payment_id FROM payment_refunds WHERE id = $1", refund_id
    )
    if payment_id is None:
        raise LookupError(f"refund {refund_id} does not exist")
    payment = await payment_row(connection, payment_id, lock=True)  # same order as requests
    refund = await refund_row(connection, refund_id, lock=True)
    assert payment is not None and refund is not None
    if refund["external_id"] is None and state.external_id:
        refund = await fetch_one(
            connection,
            "UPDATE payment_refunds SET external_id = $2 WHERE id = $1 RETURNING *",
            refund_id,
            state.external_id,
        )
    elif state.external_id and refund["external_id"] != state.external_id:
        return refund
    if refund["status"] in ("succeeded", "failed"):
        return refund
    if state.amount != Money(refund["amount"], payment["currency"]):
        log.error("refund %s: gateway refunded %s, expected %s", refund_id, state.amount, refund)
        return refund
    if state.status == "pending":
        return await fetch_one(
            connection,
            "UPDATE payment_refunds SET status = 'processing' WHERE id = $1 RETURNING *",
            refund_id,
        )
    if state.status == "failed":
        refund = await fetch_one(
            connection,
            """
            UPDATE payment_refunds SET status = 'failed', failure_message = $2
             WHERE id = $1 RETURNING *
            """,
            refund_id,
            state.failure_message,
        )
        await connection.execute(
            "UPDATE payments SET refunded_amount = refunded_amount - $2 WHERE id = $1",
            payment_id,
            refund["amount"],
        )
        await audit.record(
            connection,
            context,
            "refund.failed",
            "payment",
            payment_id,
            outcome="failed",
            detail={"refund_id": str(refund_id), "message": state.failure_message},
        )
        return refund
    refund = await fetch_one(
        connection,
        """
        UPDATE payment_refunds SET status = 'succeeded', succeeded_at = now(),
                                   failure_message = NULL
         WHERE id = $1 RETURNING *
        """,
        refund_id,
    )
    taken = await book_refund(
        connection, payment_id, refund_id, refund["amount"], refund["succeeded_at"]
    )
    await audit.record(
        connection,
        context,
        "refund.succeeded",
        "payment",
        payment_id,
        detail={
            "refund_id": str(refund_id),
            "amount": refund["amount"],
            "reason": refund["reason"],
            "source": source,
            "reversed": {str(account): amount for account, amount in taken.items()},
        },
    )
    view = refund_view(refund, payment["currency"])
    purpose = installed_purposes(services).find(payment["purpose"])
    if purpose is not None and not payment["is_duplicate"]:
        await purpose.on_refunded(connection, payment_view(payment), view)
    await notify_payer(
        connection,
        payment["payer_id"],
        "payment.refunded",
        f"payment.refunded:{refund_id}",
        {
            "amount": yuan(refund["amount"]),
            "currency": payment["currency"],
            "reason": refund["reason"],
        },
    )
    return refund
