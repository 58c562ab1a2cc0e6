"""Reconciliation: finish what a crash, a lost webhook or a gateway outage left half done.

Run by ``medmarket reconcile`` and periodically by ``medmarket worker``. For rows older
than a grace period (so it does not race requests still in progress), each under the
payment's lock, skipping payments someone else is working on:

- pending attempts: ask the gateway by reference; adopt what it has, or close the attempt
  when the gateway never heard of it (the payer's next try starts a new one);
- open attempts: ask the gateway where they stand (a charge we did not record is recorded
  now); close those older than the attempt lifetime;
- failed or canceled attempts not yet closed at the gateway: close them (a late charge
  found this way is recorded and, if the payable was paid already, refunded);
- refunds not finished: send or look them up.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

from medmarket.audit import AuditContext
from medmarket.errors import Problem
from medmarket.payments.locks import PaymentBusy, payment_lock
from medmarket.payments.records import payment_row
from medmarket.payments.refunding import Refunder
from medmarket.payments.schemas import ReconcileOut
from medmarket.payments.service import Payments
from medmarket.payments.transitions import apply_payment_state

log = logging.getLogger("medmarket.payments.reconcile")
CONTEXT = AuditContext(actor_role="system", request_id="reconciliation")


class Reconciler:
    def __init__(self, payments: Payments) -> None:
        self.payments = payments
        self.db = payments.db
        self.settings = payments.services.settings

    async def run(self, *, grace_seconds: float | None = None, limit: int = 500) -> ReconcileOut:
        grace = (
            self.settings.payment_reconcile_grace_seconds
            if grace_seconds is None
            else grace_seconds
        )
        report = ReconcileOut()
        payments = await self.db.fetch(
            """
            SELECT id, status FROM payments
             WHERE updated_at <= now() - make_interval(secs => $1)
               AND (status IN ('pending', 'open')
                    OR status IN ('failed', 'canceled') AND closed_at IS NULL
                       AND (external_id IS NOT NULL OR create_attempts > 0))
             ORDER BY updated_at LIMIT $2
            """,
            float(grace),
            limit,
        )
        for row in payments:
            await self._one(report, partial(self.settle_payment, row["id"]))
        refunds = await self.db.fetch(
            """
            SELECT id FROM payment_refunds
             WHERE status IN ('pending', 'processing')
               AND updated_at <= now() - make_interval(secs => $1)
             ORDER BY updated_at LIMIT $2
            """,
            float(grace),
            limit,
        )
        for row in refunds:
            await self._one(report, partial(self.settle_refund, row["id"]))
        if report.changed or report.failed:
            log.info("reconciliation: %s", report)
        return report

    async def _one(self, report: ReconcileOut, work: Callable[[], Awaitable[bool]]) -> None:
        report.examined += 1
        try:
            report.changed += await work()
        except PaymentBusy:
            report.busy += 1
        except (Problem, LookupError) as exc:
            report.failed += 1
            log.warning("reconciliation step failed: %s", exc)
        except Exception:
            # One payment that cannot be settled must not stop the others.
            report.failed += 1
            log.exception("reconciliation step failed")

    async def settle_payment(self, payment_id: uuid.UUID) -> bool:
        """Bring one attempt to where the gateway says it is; True if anything changed."""
        async with payment_lock(self.db, payment_id, wait_seconds=None) as connection:
            before = await payment_row(connection, payment_id)
            assert before is not None
            status = before["status"]
            if status == "pending":
                if before["create_attempts"] > 0 and await self.payments.adopt(
                    connection, before, CONTEXT
                ):
                    return True
                await self.payments.close(connection, payment_id, CONTEXT)
                return True
            if status == "open":
                gateway = self.payments.gateway(before["gateway_id"])
                state = await self.payments.call(
                    gateway,
                    "retrieve payment",
                    lambda: gateway.retrieve_payment(before["external_id"]),
                )
                async with connection.transaction():
                    after = await apply_payment_state(
                        connection,
                        self.payments.services,
                        payment_id,
                        state,
                        source="reconcile",
                        context=CONTEXT,
                    )
                expired = await connection.fetchval(
                    "SELECT created_at < now() - make_interval(secs => $2) FROM payments "
                    "WHERE id = $1",
                    payment_id,
                    float(self.settings.payment_attempt_ttl_seconds),
                )
                if after["status"] == "open" and expired:
                    await self.payments.close(connection, payment_id, CONTEXT)
                    return True
                return bool(
                    after["status"] != status or after["gateway_status"] != before["gateway_status"]
                )
            if before["closed_at"] is None:
                after = await self.payments.close(connection, payment_id, CONTEXT)
                return bool(after["closed_at"] is not None or after["status"] != status)
            return False

    async def settle_refund(self, refund_id: uuid.UUID) -> bool:
        before = await self.db.fetchval(
            "SELECT status FROM payment_refunds WHERE id = $1", refund_id
        )
        await Refunder(self.payments).execute(refund_id, CONTEXT)
        after = await self.db.fetchval(
            "SELECT status FROM payment_refunds WHERE id = $1", refund_id
        )
        return bool(before != after)
