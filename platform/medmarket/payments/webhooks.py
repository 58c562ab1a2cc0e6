"""Gateway notifications: verified by the gateway adapter, recorded once, applied once.

The event id is inserted in the same transaction that applies the event, so a replay finds
the id and does nothing, and a crash halfway leaves neither (the gateway sends again).
Reordered events are safe because ``transitions`` only moves a payment forward.

Verifying a notification is the adapter's own arithmetic over what anyone on the internet may
send: however it fails, that says nothing of the gateway's health, so it is answered 400 and
never reaches the gateway's circuit breaker (which only the gateway's own failures open).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.errors import MalformedRequest, NotFound
from medmarket.payments.interface import (
    GatewayPayment,
    GatewayRefund,
    PaymentGateway,
    WebhookAck,
    WebhookEvent,
    WebhookRejected,
)
from medmarket.payments.service import Payments
from medmarket.payments.transitions import apply_payment_state, apply_refund_state
from medmarket.plugin_manager import PluginUnavailable

log = logging.getLogger("medmarket.payments.webhooks")
MAX_BODY = 512 * 1024


class WebhookRefused(MalformedRequest):
    slug, title = "webhook-rejected", "The notification was not accepted"


async def receive(
    payments: Payments,
    gateway_id: str,
    headers: Mapping[str, str],
    body: bytes,
    context: AuditContext,
) -> WebhookAck:
    try:
        gateway = payments.gateway(gateway_id)
    except PluginUnavailable:
        raise NotFound("no such payment gateway", field="gateway_id") from None
    if len(body) > MAX_BODY:
        raise WebhookRefused("the notification is too large")
    lowered = {name.lower(): value for name, value in headers.items()}
    event = await _verified(payments, gateway, lowered, body)
    async with payments.db.transaction() as connection:
        first_time = await connection.fetchval(
            """
            INSERT INTO payment_webhook_events (gateway_id, event_id, type, summary)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING
            RETURNING true
            """,
            gateway.id,
            event.event_id,
            event.type,
            _summary(event),
        )
        if first_time:
            if event.payment is not None:
                await _payment_news(connection, payments, gateway.id, event, event.payment, context)
            if event.refund is not None:
                await _refund_news(connection, payments, event.refund, context)
    return gateway.webhook_ack()


async def _verified(
    payments: Payments, gateway: PaymentGateway, headers: Mapping[str, str], body: bytes
) -> WebhookEvent:
    try:
        async with asyncio.timeout(payments.services.settings.plugin_timeout_seconds):
            return await gateway.parse_webhook(headers, body)
    except WebhookRejected as exc:
        log.warning("webhook for %s rejected: %s", gateway.id, exc)
        raise WebhookRefused(str(exc)) from None
    except Exception:
        # A bug or a hang of the adapter on hostile input: logged for us, a plain refusal for
        # the sender (a real gateway sends again), and no count against the gateway.
        log.exception("webhook for %s could not be verified", gateway.id)
        raise WebhookRefused("the notification could not be verified") from None


def _summary(event: WebhookEvent) -> dict[str, object]:
    news = event.payment or event.refund
    if news is None:
        return {}
    return {"object": news.external_id, "reference": news.reference, "status": news.status}


async def _payment_news(
    connection: Connection,
    payments: Payments,
    gateway_id: str,
    event: WebhookEvent,
    state: GatewayPayment,
    context: AuditContext,
) -> None:
    payment_id = await connection.fetchval(
        """
        SELECT id FROM payments
         WHERE gateway_id = $1 AND (external_id = $2 OR reference = $3 AND external_id IS NULL)
        """,
        gateway_id,
        state.external_id,
        state.reference,
    )
    if payment_id is None:
        if state.reference.startswith("pay_"):
            log.error("event %s names unknown attempt %s", event.event_id, state.reference)
        return  # not ours (the account may serve other systems)
    await apply_payment_state(
        connection,
        payments.services,
        payment_id,
        state,
        source=f"webhook:{event.type}",
        context=context,
        event_at=event.created_at,
    )


async def _refund_news(
    connection: Connection,
    payments: Payments,
    state: GatewayRefund,
    context: AuditContext,
) -> None:
    refund_id = await connection.fetchval(
        "SELECT id FROM payment_refunds WHERE external_id = $1 OR reference = $2",
        state.external_id,
        state.reference,
    )
    if refund_id is not None:
        await apply_refund_state(
            connection, payments.services, refund_id, state, source="webhook", context=context
        )
