"""Sending refunds to the gateway: at once (an operator's decision) or after the requesting
transaction committed (the outbox, reconciliation). A refund is requested first
(``refunds.py``: the amount is reserved and the row committed), then sent with its own
reference as idempotency key; if an earlier send may have reached the gateway, the gateway
is asked (``find_refund``) before anything is sent again.

Crash points: ``payments.refund.{before_gateway_call,after_gateway_call,after_commit}``.
"""

from __future__ import annotations

import logging
import uuid

from medmarket.audit import AuditContext
from medmarket.audit.service import SYSTEM
from medmarket.db import Connection, fetch_one
from medmarket.errors import Conflict, NotFound
from medmarket.payments.interface import GatewayRefund, Money, PaymentRejected, RefundRequest
from medmarket.payments.locks import payment_lock
from medmarket.payments.records import payment_row, refund_row
from medmarket.payments.refunds import reserve_refund
from medmarket.payments.schemas import RefundOut
from medmarket.payments.service import FIND_TIMEOUT, Payments, refund_out
from medmarket.payments.transitions import apply_refund_state
from medmarket.plugin_manager import PluginUnavailable

log = logging.getLogger("medmarket.payments.refunds")


class Refunder:
    def __init__(self, payments: Payments) -> None:
        self.payments = payments

    async def refund_now(
        self,
        payment_id: uuid.UUID,
        *,
        amount: int | None,
        reason: str,
        key: str,
        note: str | None,
        context: AuditContext,
    ) -> RefundOut:
        """Refund now (an operator's decision): reserve, then call the gateway at once."""
        async with self.payments.db.transaction() as connection:
            payment = await payment_row(connection, payment_id, lock=True)
            if payment is None:
                raise NotFound("no such payment", field="payment_id")
            if payment["status"] != "succeeded" or payment["is_duplicate"]:
                raise Conflict("only a succeeded payment can be refunded", code="not-paid")
            view = await reserve_refund(
                connection,
                payment,
                amount=amount,
                reason=reason,
                key=key,
                note=note,
                context=context,
            )
            if view is None:
                raise Conflict("everything was refunded already", code="fully-refunded")
        try:
            await self.execute(view.id, context)
        except PluginUnavailable:
            # Requested and committed: the outbox sends it when the gateway answers again.
            log.warning("refund %s stays pending: the gateway is not answering", view.id)
        row = await fetch_one(
            self.payments.db, "SELECT * FROM payment_refunds WHERE id = $1", view.id
        )
        return refund_out(row, payment["currency"])

    async def execute(self, refund_id: uuid.UUID, context: AuditContext = SYSTEM) -> None:
        """Send a requested refund to the gateway (the outbox and reconciliation call this)."""
        payment_id = await self.payments.db.fetchval(
            "SELECT payment_id FROM payment_refunds WHERE id = $1", refund_id
        )
        if payment_id is None:
            raise LookupError(f"refund {refund_id} does not exist")
        async with payment_lock(self.payments.db, payment_id) as connection:
            refund = await refund_row(connection, refund_id)
            payment = await payment_row(connection, payment_id)
            assert refund is not None and payment is not None
            if refund["status"] in ("succeeded", "failed"):
                return
            gateway = self.payments.gateway(payment["gateway_id"])
            external = payment["external_id"]
            if refund["attempts"] > 0 or refund["status"] == "processing":
                found = await self.payments.call(
                    gateway,
                    "find refund",
                    lambda: gateway.find_refund(external, refund["reference"]),
                    timeout=FIND_TIMEOUT,
                )
                if found is not None or refund["status"] == "processing":
                    if found is not None:
                        await self._apply_refund(connection, refund_id, found, context)
                    return
            await connection.execute(
                "UPDATE payment_refunds SET attempts = attempts + 1 WHERE id = $1", refund_id
            )
            currency = payment["currency"]
            request = RefundRequest(
                reference=refund["reference"],
                external_payment_id=external,
                amount=Money(refund["amount"], currency),
                reason=refund["reason"],
                payment_reference=payment["reference"],
                payment_amount=Money(payment["amount"], currency),
            )
            self.payments.failpoints.hit("payments.refund.before_gateway_call")
            try:
                state = await self.payments.call(gateway, "refund", lambda: gateway.refund(request))
            except PaymentRejected as exc:
                state = GatewayRefund(
                    gateway_id=gateway.id,
                    external_id="",
                    reference=refund["reference"],
                    status="failed",
                    amount=request.amount,
                    failure_message=exc.message,
                )
            self.payments.failpoints.hit("payments.refund.after_gateway_call")
            await self._apply_refund(connection, refund_id, state, context)
            self.payments.failpoints.hit("payments.refund.after_commit")

    async def _apply_refund(
        self,
        connection: Connection,
        refund_id: uuid.UUID,
        state: GatewayRefund,
        context: AuditContext,
    ) -> None:
        async with connection.transaction():
            await apply_refund_state(
                connection,
                self.payments.services,
                refund_id,
                state,
                source="refund",
                context=context,
            )
