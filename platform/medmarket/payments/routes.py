"""Payments API: what a payment page needs, refunds for operators, gateway webhooks.

A page pays like this: ``POST /api/payments`` with the purpose and subject → the attempt
with ``client_action`` (Stripe: client_secret, publishable_key, js_url, api_base). The page
loads the gateway's script, collects the card there, and either confirms through us
(``POST /api/payments/{id}/confirm`` with the payment method id) or in the script; then
``GET /api/payments/{id}`` shows the outcome (it asks the gateway while the attempt is
open). Repeating any of these requests is safe.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import PUBLIC, SIGNED_IN, allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import InvalidInput
from medmarket.openapi import answers, responds_with
from medmarket.payments import webhooks
from medmarket.payments.reconcile import Reconciler
from medmarket.payments.refunding import Refunder
from medmarket.payments.refunds import new_reference
from medmarket.payments.schemas import (
    ConfirmPayment,
    GatewayOut,
    PaymentOut,
    ReconcileOut,
    RefundOut,
    RefundPayment,
    StartPayment,
)
from medmarket.payments.service import Payments

TAGS = ["payments"]


def provide_payments(request: Request[Any, Any, Any]) -> Payments:
    return Payments(request.app.state.services)


@get("/gateway", opt=SIGNED_IN)
async def active_gateway(payments: NamedDependency[Payments]) -> GatewayOut:
    """The active gateway and what a page loads before paying (Stripe.js URL, publishable key)."""
    gateway = payments.gateway()
    setup = gateway.client_setup()
    return GatewayOut(
        gateway_id=gateway.id,
        display_name=gateway.display_name,
        flow=setup.flow,
        params=setup.params,
        server_confirmation=gateway.supports_server_confirmation,
    )


@post(
    "/",
    opt=allow("patient"),
    responses={HTTP_200_OK: ResponseSpec(PaymentOut, description="The attempt already in flight")},
)
async def start_payment(
    data: JSONBody[StartPayment],
    payments: NamedDependency[Payments],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Response[PaymentOut]:
    """Start paying for a payable, or get the attempt already in flight (200). 409 when it
    is paid already."""
    payment, created = await payments.start(principal, data.purpose, data.subject_id, context)
    return Response(payment, status_code=HTTP_201_CREATED if created else HTTP_200_OK)


@get("/")
async def list_payments(
    payments: NamedDependency[Payments],
    principal: NamedDependency[Principal],
    purpose: FromQuery[str | None] = None,
    subject_id: FromQuery[uuid.UUID | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> list[PaymentOut]:
    """Attempts, newest first: a patient sees their own, an operator everyone's."""
    return await payments.list_for(principal, purpose, subject_id, limit)


@get("/{payment_id:uuid}")
async def get_payment(
    payment_id: FromPath[uuid.UUID],
    payments: NamedDependency[Payments],
    principal: NamedDependency[Principal],
) -> PaymentOut:
    return await payments.get(principal, payment_id)


@post("/{payment_id:uuid}/confirm", opt=allow("patient"), status_code=HTTP_200_OK)
async def confirm_payment(
    payment_id: FromPath[uuid.UUID],
    data: JSONBody[ConfirmPayment],
    payments: NamedDependency[Payments],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Response[PaymentOut]:
    """Charge the payment method. A decline answers 200 with status "failed" and the reason;
    start a new attempt to try another card. Status "open" with ``client_action`` means the
    payer must authenticate in the gateway's script (3-D Secure)."""
    payment = await payments.confirm(principal, payment_id, data.payment_method, context)
    return Response(payment, status_code=HTTP_200_OK)


@post("/{payment_id:uuid}/cancel", status_code=HTTP_200_OK)
async def cancel_payment(
    payment_id: FromPath[uuid.UUID],
    payments: NamedDependency[Payments],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Response[PaymentOut]:
    """Abandon an unfinished attempt. One that already charged stays paid."""
    payment = await payments.cancel(principal, payment_id, context)
    return Response(payment, status_code=HTTP_200_OK)


@get("/{payment_id:uuid}/refunds")
async def list_refunds(
    payment_id: FromPath[uuid.UUID],
    payments: NamedDependency[Payments],
    principal: NamedDependency[Principal],
) -> list[RefundOut]:
    return await payments.refunds_of(principal, payment_id)


@post("/{payment_id:uuid}/refunds", opt=allow("operator"), status_code=HTTP_201_CREATED)
async def refund_payment(
    request: Request[Any, Any, Any],
    payment_id: FromPath[uuid.UUID],
    data: JSONBody[RefundPayment],
    payments: NamedDependency[Payments],
    context: NamedDependency[AuditContext],
) -> RefundOut:
    """Refund (part of) a payment now. Send an ``Idempotency-Key`` header: repeating the
    request with the same key refunds once."""
    key = request.headers.get("idempotency-key") or new_reference("operator")
    if len(key) > 150:
        raise InvalidInput("Idempotency-Key has at most 150 characters", field="Idempotency-Key")
    return await Refunder(payments).refund_now(
        payment_id,
        amount=data.amount,
        reason=data.reason,
        key=f"operator:{key}",
        note=data.note,
        context=context,
    )


@post("/reconcile", status_code=200)
async def reconcile_now(payments: NamedDependency[Payments]) -> ReconcileOut:
    """Run reconciliation now (the worker also runs it periodically)."""
    return await Reconciler(payments).run()


@post(
    "/{gateway_id:str}",
    # The gateway decides what an acknowledgement looks like (WebhookAck).
    opt={**answers(400, 413), **responds_with("*/*")},
    status_code=HTTP_200_OK,
    request_max_body_size=webhooks.MAX_BODY,
)
async def gateway_webhook(
    request: Request[Any, Any, Any],
    gateway_id: FromPath[str],
    payments: NamedDependency[Payments],
    context: NamedDependency[AuditContext],
) -> Response[bytes]:
    """Notifications from a gateway; anything not authentic is refused with 400."""
    body = await request.body()
    ack = await webhooks.receive(payments, gateway_id, dict(request.headers), body, context)
    return Response(ack.body, status_code=ack.status_code, media_type=ack.media_type)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            # A patient's payments and their refunds, which operators see and refund.
            Router(
                path="/payments",
                opt=allow("patient", "operator"),
                route_handlers=[
                    active_gateway,
                    start_payment,
                    list_payments,
                    get_payment,
                    confirm_payment,
                    cancel_payment,
                    list_refunds,
                    refund_payment,
                ],
            ),
            Router(
                path="/operator/payments", opt=allow("operator"), route_handlers=[reconcile_now]
            ),
            # Anyone may call it; only what the gateway signed is accepted.
            Router(path="/payments/webhooks", opt=PUBLIC, route_handlers=[gateway_webhook]),
        ],
    )
]
DEPENDENCIES = {"payments": Provide(provide_payments, sync_to_thread=False)}
