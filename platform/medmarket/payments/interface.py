"""What crosses between the core and a payment gateway plugin (Stripe built in; WeChat Pay,
Alipay plug in the same way).

The core owns idempotency: it commits a payment row with its own ``reference`` before it
calls a gateway, passes that reference on every call, and recovers from crashes by asking
the gateway ``find_by_reference``. Gateways must therefore be able to look a payment up by
the reference the core gave it.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from medmarket.health import HealthReport


class Money(msgspec.Struct, frozen=True):
    """An integer count of the currency's smallest unit (fen for CNY), with the currency."""

    amount: int
    currency: str = "CNY"


PaymentStatus = Literal[
    "requires_payment_method", "requires_action", "processing", "succeeded", "canceled", "failed"
]


class PaymentRequest(msgspec.Struct, frozen=True, kw_only=True):
    reference: str  # the core's idempotency key for this payment
    amount: Money
    description: str
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class GatewayPayment(msgspec.Struct, frozen=True, kw_only=True):
    gateway_id: str
    external_id: str
    reference: str
    status: PaymentStatus
    amount: Money
    # What the browser needs to finish paying (e.g. Stripe's client_secret); never stored.
    client_secret: str | None = None
    failure_message: str | None = None


class RefundRequest(msgspec.Struct, frozen=True, kw_only=True):
    reference: str  # the core's idempotency key for this refund
    external_payment_id: str
    amount: Money
    reason: str


class GatewayRefund(msgspec.Struct, frozen=True, kw_only=True):
    gateway_id: str
    external_id: str
    reference: str
    status: Literal["pending", "succeeded", "failed"]
    amount: Money


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    type: str
    payment: GatewayPayment | None = None
    refund: GatewayRefund | None = None
    raw: dict[str, Any] = msgspec.field(default_factory=dict)


@runtime_checkable
class PaymentGateway(Protocol):
    id: str
    display_name: str

    async def create_payment(self, request: PaymentRequest) -> GatewayPayment: ...

    async def confirm_payment(self, external_id: str, payment_method: str) -> GatewayPayment: ...

    async def cancel_payment(self, external_id: str) -> GatewayPayment: ...

    async def find_by_reference(self, reference: str) -> GatewayPayment | None: ...

    async def refund(self, request: RefundRequest) -> GatewayRefund: ...

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> WebhookEvent:
        """Verify the signature and decode; raise ValueError for anything not authentic."""
        ...

    async def health(self) -> HealthReport: ...
