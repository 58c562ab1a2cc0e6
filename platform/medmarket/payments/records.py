"""Reading payment and refund rows, and the small things every payments module writes with
them (notifications to the payer)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from medmarket import outbox
from medmarket.db import Connection
from medmarket.payments.interface import Money
from medmarket.payments.purposes import PaymentView, RefundView

_PAYMENT = "SELECT * FROM payments WHERE id = $1"
_PAYMENT_LOCKED = _PAYMENT + " FOR UPDATE"
_REFUND = "SELECT * FROM payment_refunds WHERE id = $1"
_REFUND_LOCKED = _REFUND + " FOR UPDATE"


def payment_view(row: asyncpg.Record) -> PaymentView:
    return PaymentView(
        id=row["id"],
        purpose=row["purpose"],
        subject_id=row["subject_id"],
        payer_id=row["payer_id"],
        amount=Money(row["amount"], row["currency"]),
        status=row["status"],
        refunded=Money(row["refunded_amount"], row["currency"]),
        gateway_id=row["gateway_id"],
        external_id=row["external_id"],
        failure_code=row["failure_code"],
        failure_message=row["failure_message"],
        created_at=row["created_at"],
        succeeded_at=row["succeeded_at"],
    )


def refund_view(row: asyncpg.Record, currency: str) -> RefundView:
    return RefundView(
        id=row["id"],
        payment_id=row["payment_id"],
        amount=Money(row["amount"], currency),
        reason=row["reason"],
        request_key=row["request_key"],
        status=row["status"],
        created_at=row["created_at"],
        succeeded_at=row["succeeded_at"],
        failure_message=row["failure_message"],
    )


async def payment_row(
    connection: Connection, payment_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    query = _PAYMENT_LOCKED if lock else _PAYMENT
    return await connection.fetchrow(query, payment_id)


async def refund_row(
    connection: Connection, refund_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    query = _REFUND_LOCKED if lock else _REFUND
    return await connection.fetchrow(query, refund_id)


async def notify_payer(
    connection: Connection,
    payer_id: uuid.UUID,
    template: str,
    key: str,
    params: dict[str, Any],
) -> None:
    """Tell the payer (once per ``key``) through every notification channel."""
    user = await connection.fetchrow(
        "SELECT id, display_name, email, locale FROM users WHERE id = $1", payer_id
    )
    if user is None:
        return
    await outbox.enqueue(
        connection,
        "notification.send",
        {
            "id": key,
            "template": template,
            "params": {name: str(value) for name, value in params.items()},
            "recipient": {
                "user_id": str(user["id"]),
                "display_name": user["display_name"],
                "email": user["email"],
                "locale": user["locale"],
            },
        },
        dedupe_key=f"notification:{key}",
    )


async def request_close(
    connection: Connection, payment_id: uuid.UUID, external_id: str | None = None
) -> None:
    """After commit, close the attempt at the gateway too, so it can never charge later."""
    await outbox.enqueue(
        connection,
        "payments.close",
        {"payment_id": str(payment_id)},
        dedupe_key=f"payments.close:{payment_id}:{external_id or '-'}",
    )
