"""What crosses between the core and a payment gateway plugin (Stripe built in; WeChat Pay,
Alipay plug in the same way).

The core owns idempotency and recovery. For every payment attempt it commits a row with its
own ``reference`` before it calls a gateway, passes that reference on every call (Stripe:
metadata and the Idempotency-Key; WeChat Pay and Alipay: ``out_trade_no``), and after a
crash asks the gateway ``find_by_reference``. Refunds work the same way with their own
reference (WeChat Pay ``out_refund_no``, Alipay ``out_request_no``).

A gateway's methods return what the gateway says, also when the news is bad: a declined
card is a ``GatewayPayment`` with status ``"failed"``, not an exception. They raise
``PaymentRejected`` when the gateway refused a request the customer can correct (an unknown
payment method), ``WebhookRejected`` for a webhook that is not authentic, and anything else
for "the gateway could not be reached or misbehaved" (the core then answers 503 and
reconciles later).

One attempt is one gateway object (a Stripe PaymentIntent, a WeChat Pay order). The core
never confirms a failed attempt again: the payer's next try is a new attempt with a new
reference, which every gateway supports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol, runtime_checkable

import msgspec

from medmarket.health import HealthReport


class Money(msgspec.Struct, frozen=True):
    """An integer count of the currency's smallest unit (fen for CNY), with the currency."""

    amount: int
    currency: str = "CNY"


# Where a gateway's payment stands. "requires_*" mean nothing was charged yet and the payer
# (or the core, for server-side confirmation) must act; "failed" means this attempt will
# never charge (a decline); only "succeeded" means money was taken.
GatewayStatus = Literal[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "succeeded",
    "failed",
    "canceled",
]


class ClientAction(msgspec.Struct, frozen=True, kw_only=True):
    """What the payer's browser or app needs to finish paying. Never stored by the core.

    ``flow`` tells the page which client to run: ``"stripe.js"`` (params: client_secret,
    publishable_key, js_url, api_base), ``"wechat-jsapi"`` (the signed JSAPI parameters),
    ``"wechat-native"`` (code_url for a QR code), ``"alipay-page"`` or ``"redirect"`` (url).
    """

    flow: str
    params: dict[str, str] = msgspec.field(default_factory=dict)


class PaymentRequest(msgspec.Struct, frozen=True, kw_only=True):
    reference: str  # the core's idempotency key for this attempt; unique forever
    amount: Money
    description: str
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    # Facts about the payer some gateways need (WeChat JSAPI: "wechat_openid"; H5: "ip").
    payer: dict[str, str] = msgspec.field(default_factory=dict)
    # When the attempt should stop accepting payment (WeChat time_expire); None: no limit.
    expires_at: dt.datetime | None = None


class GatewayPayment(msgspec.Struct, frozen=True, kw_only=True):
    gateway_id: str
    external_id: str
    reference: str
    status: GatewayStatus
    amount: Money
    # Filled while the payer still has to act.
    client_action: ClientAction | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    raw_status: str = ""  # the gateway's own word, for operators

    @property
    def client_secret(self) -> str | None:
        """Stripe's client secret, when the payer still has to act."""
        return self.client_action.params.get("client_secret") if self.client_action else None


class RefundRequest(msgspec.Struct, frozen=True, kw_only=True):
    reference: str  # the core's idempotency key for this refund; unique forever
    external_payment_id: str
    amount: Money
    reason: str
    # WeChat Pay and Alipay name the original order and its total in a refund request.
    payment_reference: str = ""
    payment_amount: Money | None = None


class GatewayRefund(msgspec.Struct, frozen=True, kw_only=True):
    gateway_id: str
    external_id: str
    reference: str
    status: Literal["pending", "succeeded", "failed"]
    amount: Money
    external_payment_id: str = ""
    failure_message: str | None = None


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An authentic notification. ``event_id`` is unique per event at the gateway: the core
    records it and gives a repeated id no effect."""

    event_id: str
    type: str
    created_at: dt.datetime | None = None
    payment: GatewayPayment | None = None
    refund: GatewayRefund | None = None


class WebhookAck(msgspec.Struct, frozen=True, kw_only=True):
    """The answer a gateway expects for an accepted notification (Alipay wants ``success``,
    WeChat Pay a JSON code)."""

    status_code: int = 200
    media_type: str = "application/json"
    body: bytes = b'{"received": true}'


class PaymentRejected(Exception):
    """The gateway refused a request for a reason the payer can correct."""

    def __init__(self, message: str, *, code: str = "rejected") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class WebhookRejected(ValueError):
    """A webhook that is not authentic (signature, timestamp) or cannot be read."""


@runtime_checkable
class PaymentGateway(Protocol):
    id: str
    display_name: str
    # Can the core confirm with a payment method the client obtained (Stripe: a card token;
    # WeChat Pay: a barcode auth code)? If not, the payer confirms in the client flow.
    supports_server_confirmation: bool

    async def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        """Create the attempt; use ``request.reference`` as idempotency key and keep it so
        ``find_by_reference`` finds the attempt."""
        ...

    async def retrieve_payment(self, external_id: str) -> GatewayPayment:
        """The attempt as the gateway sees it now, with ``client_action`` if the payer must act."""
        ...

    async def confirm_payment(
        self, external_id: str, payment_method: str, idempotency_key: str
    ) -> GatewayPayment:
        """Charge ``payment_method``; a decline is status ``"failed"``. Calling it for an attempt
        that already succeeded must not charge again: return the attempt as it stands."""
        ...

    async def cancel_payment(self, external_id: str) -> GatewayPayment:
        """Close the attempt so it can never charge; if it already succeeded, say so."""
        ...

    async def find_by_reference(self, reference: str) -> Sequence[GatewayPayment]:
        """Every attempt carrying ``reference`` (usually one, none if the create never arrived)."""
        ...

    async def refund(self, request: RefundRequest) -> GatewayRefund: ...

    async def find_refund(self, external_payment_id: str, reference: str) -> GatewayRefund | None:
        """The refund with ``reference`` on that payment, if the gateway has it."""
        ...

    async def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify and decode a notification (headers with lower-case names); raise
        ``WebhookRejected`` for anything not authentic."""
        ...

    def webhook_ack(self) -> WebhookAck: ...

    def client_setup(self) -> ClientAction:
        """What a page loads before any payment exists (Stripe: publishable key, script URL)."""
        ...

    async def health(self) -> HealthReport: ...
