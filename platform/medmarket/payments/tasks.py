"""Background work for payments: the outbox topics it consumes and periodic reconciliation
(both run by ``medmarket worker``)."""

from __future__ import annotations

import logging
import uuid

from medmarket.audit.service import SYSTEM
from medmarket.outbox.worker import Handler, OutboxMessage
from medmarket.payments.locks import payment_lock
from medmarket.payments.reconcile import Reconciler
from medmarket.payments.refunding import Refunder
from medmarket.payments.service import Payments
from medmarket.services import Services

log = logging.getLogger("medmarket.payments.tasks")


def payment_handlers(services: Services) -> dict[str, Handler]:
    payments = Payments(services)

    async def execute_refund(message: OutboxMessage) -> None:
        await Refunder(payments).execute(uuid.UUID(message.payload["refund_id"]))

    async def close_attempt(message: OutboxMessage) -> None:
        payment_id = uuid.UUID(message.payload["payment_id"])
        async with payment_lock(services.db, payment_id) as connection:
            await payments.close(connection, payment_id, SYSTEM)

    return {"payments.refund": execute_refund, "payments.close": close_attempt}


async def reconcile(services: Services) -> object:
    """One reconciliation pass (the worker runs it periodically)."""
    report = await Reconciler(Payments(services)).run()
    return report if report.changed or report.failed else None
