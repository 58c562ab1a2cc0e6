"""The rules of paying: start an attempt for a payable, confirm it, cancel it (refunds:
``refunds.py`` to request, ``refunding.py`` to send).

Never lose or double money:

1. An attempt is a row with its own ``reference``, committed before the gateway hears of it.
   A payable has at most one attempt in flight and at most one that counts as paid
   (unique indexes), so a duplicate request finds the first one's row.
2. Every gateway conversation about one payment holds that payment's advisory lock
   (``locks.py``): duplicates wait and then see the first one's result; a crashed process
   releases the lock with its connection.
3. Before each call that could create or charge, a counter is committed
   (``create_attempts``, ``confirm_attempts``). If it shows an earlier call, the gateway is
   asked first (``find_by_reference``, ``retrieve_payment``): what already happened there is
   adopted, never done again.
4. What the gateway answers is applied by ``transitions.py``, which books a success once.
5. ``reconcile.py`` finishes whatever a crash left half done.

Crash points (failpoints for the fault test): ``payments.{create,confirm,refund}.``
``before_gateway_call`` / ``after_gateway_call`` / ``after_commit``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.audit.service import SYSTEM
from medmarket.db import Connection, fetch_one
from medmarket.errors import Conflict, InvalidInput, NotFound
from medmarket.failpoints import Failpoints
from medmarket.payments.interface import (
    ClientAction,
    GatewayPayment,
    Money,
    PaymentGateway,
    PaymentRejected,
    PaymentRequest,
)
from medmarket.payments.locks import payment_lock
from medmarket.payments.purposes import installed_purposes
from medmarket.payments.records import payment_row
from medmarket.payments.refunds import new_reference
from medmarket.payments.schemas import PaymentOut, RefundOut
from medmarket.payments.transitions import apply_payment_state
from medmarket.plugin_manager import PluginUnavailable
from medmarket.services import Services

T = TypeVar("T")
# Which of several gateway objects with one reference is "the" attempt.
_PREFERENCE = [
    "succeeded",
    "processing",
    "requires_action",
    "requires_confirmation",
    "requires_payment_method",
    "failed",
    "canceled",
]
FIND_TIMEOUT = 60.0  # finding by reference may page through a whole account


class _Refusal(msgspec.Struct):
    error: Any


def payment_out(row: asyncpg.Record, action: ClientAction | None = None) -> PaymentOut:
    return PaymentOut(
        id=row["id"],
        purpose=row["purpose"],
        subject_id=row["subject_id"],
        status=row["status"],
        amount=Money(row["amount"], row["currency"]),
        refunded=Money(row["refunded_amount"], row["currency"]),
        gateway_id=row["gateway_id"],
        gateway_status=row["gateway_status"],
        failure_code=row["failure_code"],
        failure_message=row["failure_message"],
        created_at=row["created_at"],
        succeeded_at=row["succeeded_at"],
        client_action=action if row["status"] == "open" else None,
    )


def refund_out(row: asyncpg.Record, currency: str) -> RefundOut:
    return RefundOut(
        id=row["id"],
        payment_id=row["payment_id"],
        amount=Money(row["amount"], currency),
        reason=row["reason"],
        status=row["status"],
        created_at=row["created_at"],
        succeeded_at=row["succeeded_at"],
        failure_message=row["failure_message"],
    )


class Payments:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.db = services.db
        self.failpoints = Failpoints(services.settings)

    # -- gateways --------------------------------------------------------------------------
    def gateway(self, gateway_id: str | None = None) -> PaymentGateway:
        chosen = gateway_id or self.services.settings.payment_gateway
        return self.services.plugins.payment_gateways.get(chosen)

    async def call(
        self,
        gateway: PaymentGateway,
        operation: str,
        call: Callable[[], Awaitable[T]],
        *,
        timeout: float | None = None,
    ) -> T:
        """A guarded gateway call. A refusal the payer can act on (``PaymentRejected``)
        passes through as itself and does not count as the gateway failing; anything else
        becomes a 503 and feeds the circuit breaker. (Webhooks are verified apart, in
        ``webhooks.py``: what strangers send must not feed the breaker at all.)"""

        async def shielded() -> T | _Refusal:
            try:
                return await call()
            except PaymentRejected as exc:
                return _Refusal(exc)

        outcome = await self.services.plugins.guard(
            f"payment: {operation}",
            self.services.plugins.payment_gateways.key(gateway.id),
            shielded,
            timeout=timeout,
        )
        if isinstance(outcome, _Refusal):
            raise outcome.error
        return outcome

    # -- reading ---------------------------------------------------------------------------
    async def _visible_row(self, viewer: Principal, payment_id: uuid.UUID) -> asyncpg.Record:
        row = await self.db.fetchrow("SELECT * FROM payments WHERE id = $1", payment_id)
        if row is None or (viewer.role != "operator" and row["payer_id"] != viewer.user_id):
            raise NotFound("no such payment", field="payment_id")
        return row

    async def get(self, viewer: Principal, payment_id: uuid.UUID) -> PaymentOut:
        """The attempt; one still open is first brought up to date with the gateway."""
        row = await self._visible_row(viewer, payment_id)
        if row["status"] != "open":
            return payment_out(row)
        gateway = self.gateway(row["gateway_id"])
        try:
            state = await self.call(
                gateway, "retrieve payment", lambda: gateway.retrieve_payment(row["external_id"])
            )
        except PluginUnavailable:
            return payment_out(row)  # what we know; the page asks again later
        async with self.db.transaction() as connection:
            row = await apply_payment_state(
                connection, self.services, payment_id, state, source="retrieve", context=SYSTEM
            )
        mine = row["payer_id"] == viewer.user_id
        return payment_out(row, state.client_action if mine else None)

    async def list_for(
        self, viewer: Principal, purpose: str | None, subject_id: uuid.UUID | None, limit: int
    ) -> list[PaymentOut]:
        rows = await self.db.fetch(
            """
            SELECT * FROM payments
             WHERE ($1::text IS NULL OR purpose = $1) AND ($2::uuid IS NULL OR subject_id = $2)
               AND ($3::uuid IS NULL OR payer_id = $3)
             ORDER BY created_at DESC LIMIT $4
            """,
            purpose,
            subject_id,
            None if viewer.role == "operator" else viewer.user_id,
            limit,
        )
        return [payment_out(row) for row in rows]

    async def refunds_of(self, viewer: Principal, payment_id: uuid.UUID) -> list[RefundOut]:
        payment = await self._visible_row(viewer, payment_id)
        rows = await self.db.fetch(
            "SELECT * FROM payment_refunds WHERE payment_id = $1 ORDER BY created_at", payment_id
        )
        return [refund_out(row, payment["currency"]) for row in rows]

    # -- starting --------------------------------------------------------------------------
    async def start(
        self, payer: Principal, purpose_name: str, subject_id: uuid.UUID, context: AuditContext
    ) -> tuple[PaymentOut, bool]:
        """The attempt in flight for this payable, made if there is none; (payment, created)."""
        purpose = installed_purposes(self.services).get(purpose_name)
        gateway = self.gateway()
        created = False
        async with self.db.transaction() as connection:
            row = await connection.fetchrow(
                """
                SELECT id, payer_id, status FROM payments
                 WHERE purpose = $1 AND subject_id = $2
                   AND (status IN ('pending', 'open') OR status = 'succeeded' AND NOT is_duplicate)
                """,
                purpose_name,
                subject_id,
            )
            if row is None:
                payable = await purpose.payable(connection, subject_id)
                if payable is None or payable.payer_id != payer.user_id:
                    raise NotFound("there is nothing to pay for here", field="subject_id")
                if payable.amount.amount <= 0:
                    raise Conflict("there is nothing to pay", field="subject_id", code="free")
                payment_id = await connection.fetchval(
                    """
                    INSERT INTO payments (reference, purpose, subject_id, payer_id, amount,
                                          currency, description, doctor_id, hospital_id,
                                          pharmacy_id, gateway_id, expires_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                    ON CONFLICT (purpose, subject_id) WHERE status IN ('pending', 'open')
                    DO NOTHING
                    RETURNING id
                    """,
                    new_reference("pay"),
                    purpose_name,
                    subject_id,
                    payer.user_id,
                    payable.amount.amount,
                    payable.amount.currency,
                    payable.description[:500] or purpose_name,
                    payable.doctor_id,
                    payable.hospital_id,
                    payable.pharmacy_id,
                    gateway.id,
                    payable.expires_at,
                )
                if payment_id is not None:
                    created = True
                    await audit.record(
                        connection,
                        context,
                        "payment.created",
                        "payment",
                        payment_id,
                        detail={
                            "purpose": purpose_name,
                            "subject_id": str(subject_id),
                            "amount": payable.amount.amount,
                            "currency": payable.amount.currency,
                        },
                    )
                else:  # a duplicate request inserted it a moment ago
                    row = await connection.fetchrow(
                        "SELECT id, payer_id, status FROM payments WHERE purpose = $1 "
                        "AND subject_id = $2 AND status IN ('pending', 'open')",
                        purpose_name,
                        subject_id,
                    )
            if row is not None:
                if row["payer_id"] != payer.user_id:
                    raise NotFound("there is nothing to pay for here", field="subject_id")
                if row["status"] == "succeeded":
                    raise Conflict("this is paid already", field="subject_id", code="already-paid")
                payment_id = row["id"]
        return await self.ensure_at_gateway(payment_id, context, payer_ip=context.ip), created

    async def ensure_at_gateway(
        self, payment_id: uuid.UUID, context: AuditContext, *, payer_ip: str | None = None
    ) -> PaymentOut:
        async with payment_lock(self.db, payment_id) as connection:
            row = await payment_row(connection, payment_id)
            assert row is not None
            gateway = self.gateway(row["gateway_id"])
            if row["status"] == "open":
                external_id = row["external_id"]
                state = await self.call(
                    gateway, "retrieve payment", lambda: gateway.retrieve_payment(external_id)
                )
                async with connection.transaction():
                    row = await apply_payment_state(
                        connection,
                        self.services,
                        payment_id,
                        state,
                        source="retrieve",
                        context=context,
                    )
                return payment_out(row, state.client_action)
            if row["status"] != "pending":
                return payment_out(row)
            if row["create_attempts"] > 0:
                adopted = await self.adopt(connection, row, context)
                if adopted is not None:
                    return payment_out(*adopted)
            await connection.execute(
                "UPDATE payments SET create_attempts = create_attempts + 1 WHERE id = $1",
                payment_id,
            )
            request = PaymentRequest(
                reference=row["reference"],
                amount=Money(row["amount"], row["currency"]),
                description=row["description"],
                metadata={
                    "payment_id": str(payment_id),
                    "purpose": row["purpose"],
                    "subject_id": str(row["subject_id"]),
                },
                payer={"ip": payer_ip} if payer_ip else {},
                expires_at=row["expires_at"],
            )
            self.failpoints.hit("payments.create.before_gateway_call")
            state = await self.call(
                gateway, "create payment", lambda: gateway.create_payment(request)
            )
            self.failpoints.hit("payments.create.after_gateway_call")
            async with connection.transaction():
                row = await apply_payment_state(
                    connection, self.services, payment_id, state, source="create", context=context
                )
            self.failpoints.hit("payments.create.after_commit")
            return payment_out(row, state.client_action)

    async def adopt(
        self, connection: Connection, row: asyncpg.Record, context: AuditContext
    ) -> tuple[asyncpg.Record, ClientAction | None] | None:
        """Take over what an earlier, interrupted create left at the gateway (under the lock).
        Extra gateway objects with the same reference are closed; should one of them have
        charged, it is recorded as a duplicate and refunded."""
        gateway = self.gateway(row["gateway_id"])
        found = list(
            await self.call(
                gateway,
                "find payment",
                lambda: gateway.find_by_reference(row["reference"]),
                timeout=FIND_TIMEOUT,
            )
        )
        if not found:
            return None
        found.sort(key=lambda state: _PREFERENCE.index(state.status))
        chosen, extras = found[0], found[1:]
        async with connection.transaction():
            updated = await apply_payment_state(
                connection, self.services, row["id"], chosen, source="recover", context=context
            )
        for extra in extras:
            await self._stray(connection, updated, extra, context)
        return updated, chosen.client_action

    async def _stray(
        self,
        connection: Connection,
        row: asyncpg.Record,
        stray: GatewayPayment,
        context: AuditContext,
    ) -> None:
        gateway = self.gateway(row["gateway_id"])
        if stray.status not in ("succeeded", "failed", "canceled"):
            stray = await self.call(
                gateway, "cancel payment", lambda: gateway.cancel_payment(stray.external_id)
            )
        if stray.status != "succeeded":
            return
        async with connection.transaction():
            known = await connection.fetchval(
                "SELECT id FROM payments WHERE gateway_id = $1 AND external_id = $2",
                gateway.id,
                stray.external_id,
            )
            if known is None:
                known = await connection.fetchval(
                    """
                    INSERT INTO payments (reference, purpose, subject_id, payer_id, amount,
                                          currency, description, doctor_id, hospital_id,
                                          pharmacy_id, gateway_id, external_id, status,
                                          create_attempts)
                    SELECT $2, purpose, subject_id, payer_id, amount, currency, description,
                           doctor_id, hospital_id, pharmacy_id, gateway_id, $3, 'canceled', 1
                      FROM payments WHERE id = $1
                    RETURNING id
                    """,
                    row["id"],
                    new_reference("dup"),
                    stray.external_id,
                )
            await apply_payment_state(
                connection, self.services, known, stray, source="recover", context=context
            )

    # -- confirming and cancelling ---------------------------------------------------------
    async def confirm(
        self,
        payer: Principal,
        payment_id: uuid.UUID,
        payment_method: str,
        context: AuditContext,
    ) -> PaymentOut:
        visible = await self._visible_row(payer, payment_id)
        if visible["payer_id"] != payer.user_id:
            raise NotFound("no such payment", field="payment_id")
        gateway = self.gateway(visible["gateway_id"])
        if not gateway.supports_server_confirmation:
            raise Conflict(f"{gateway.display_name} payments are confirmed in the payer's app")
        if visible["status"] == "pending":
            await self.ensure_at_gateway(payment_id, context)
        async with payment_lock(self.db, payment_id) as connection:
            row = await payment_row(connection, payment_id)
            assert row is not None
            if row["status"] != "open":
                return payment_out(row)
            external_id = row["external_id"]
            if row["confirm_attempts"] > 0:
                # An earlier confirm may have charged; ask before charging again.
                state = await self.call(
                    gateway, "retrieve payment", lambda: gateway.retrieve_payment(external_id)
                )
                async with connection.transaction():
                    row = await apply_payment_state(
                        connection,
                        self.services,
                        payment_id,
                        state,
                        source="retrieve",
                        context=context,
                    )
                if state.status not in ("requires_payment_method", "requires_confirmation"):
                    return payment_out(row, state.client_action)
            attempt = row["confirm_attempts"] + 1
            await connection.execute(
                "UPDATE payments SET confirm_attempts = $2 WHERE id = $1", payment_id, attempt
            )
            key = f"{row['reference']}:confirm:{attempt}"
            self.failpoints.hit("payments.confirm.before_gateway_call")
            try:
                state = await self.call(
                    gateway,
                    "confirm payment",
                    lambda: gateway.confirm_payment(external_id, payment_method, key),
                )
            except PaymentRejected as exc:
                raise InvalidInput(exc.message, field="payment_method", code=exc.code) from None
            self.failpoints.hit("payments.confirm.after_gateway_call")
            async with connection.transaction():
                row = await apply_payment_state(
                    connection, self.services, payment_id, state, source="confirm", context=context
                )
            self.failpoints.hit("payments.confirm.after_commit")
            return payment_out(row, state.client_action)

    async def cancel(
        self, viewer: Principal, payment_id: uuid.UUID, context: AuditContext
    ) -> PaymentOut:
        """Stop an unfinished attempt (the payer changed their mind)."""
        await self._visible_row(viewer, payment_id)
        async with payment_lock(self.db, payment_id) as connection:
            return payment_out(await self.close(connection, payment_id, context))

    async def close(
        self, connection: Connection, payment_id: uuid.UUID, context: AuditContext
    ) -> asyncpg.Record:
        """Under the payment's lock: make sure the attempt can never charge. An attempt
        that turns out to have charged is recorded as such."""
        row = await payment_row(connection, payment_id)
        assert row is not None
        if row["external_id"] is None and row["create_attempts"] > 0:
            adopted = await self.adopt(connection, row, context)
            row = adopted[0] if adopted else row
        if row["status"] == "succeeded" or row["closed_at"] is not None:
            return row
        if row["external_id"] is None:
            # The gateway never had it (creates happen under the lock we hold).
            async with connection.transaction():
                current = await payment_row(connection, payment_id, lock=True)
                assert current is not None
                if current["status"] in ("pending", "canceled", "failed"):
                    row = await fetch_one(
                        connection,
                        """
                        UPDATE payments SET closed_at = now(),
                               status = CASE WHEN status = 'pending' THEN 'canceled' ELSE status END
                         WHERE id = $1 RETURNING *
                        """,
                        payment_id,
                    )
                    if current["status"] == "pending":
                        await audit.record(
                            connection, context, "payment.canceled", "payment", payment_id
                        )
                else:
                    row = current
            return row
        gateway = self.gateway(row["gateway_id"])
        state = await self.call(
            gateway, "cancel payment", lambda: gateway.cancel_payment(row["external_id"])
        )
        async with connection.transaction():
            return await apply_payment_state(
                connection, self.services, payment_id, state, source="cancel", context=context
            )
