"""The built-in payment gateway: the Stripe HTTP API over httpx (PaymentIntents, Refunds).

Form-encoded requests, ``Idempotency-Key`` on every POST, one timeout per request. Retries
only where they cannot charge twice: GETs, and POSTs that never reached Stripe (the
connection was refused). Anything else surfaces, and the core reconciles: localstripe (used
in development and tests) ignores idempotency keys, so the guarantee must not rest on them.

An attempt is a PaymentIntent whose ``metadata[reference]`` is the core's reference;
``find_by_reference`` uses the Search API and falls back to listing when the server has no
search (localstripe).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import msgspec

from medmarket import hookimpl
from medmarket.health import HealthReport
from medmarket.payments import stripe_signature
from medmarket.payments.interface import (
    ClientAction,
    GatewayPayment,
    GatewayRefund,
    GatewayStatus,
    Money,
    PaymentRejected,
    PaymentRequest,
    RefundRequest,
    WebhookAck,
    WebhookEvent,
    WebhookRejected,
)
from medmarket.settings import Settings

STRIPE_VERSION = "2024-06-20"
_GET_RETRIES = (0.2, 0.6)
_PAGE = 100
_AWAITING = {"requires_payment_method", "requires_confirmation", "requires_action"}
_REFUND_STATUS = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}


class StripeError(Exception):
    """Stripe answered something we cannot use (auth, server error, unexpected shape)."""


def form_fields(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Stripe's form encoding: ``{"metadata": {"a": "1"}}`` → ``{"metadata[a]": "1"}``."""
    fields: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            fields.update(form_fields(value, name))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                fields[f"{name}[{index}]"] = str(item)
        elif isinstance(value, bool):
            fields[name] = "true" if value else "false"
        elif value is not None:
            fields[name] = str(value)
    return fields


class StripeGateway:
    id = "stripe"
    display_name = "Stripe"
    supports_server_confirmation = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.stripe_api_base.rstrip("/")
        self.timeout = httpx.Timeout(settings.plugin_timeout_seconds, connect=5.0)
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._search_supported: bool | None = None

    # -- HTTP ------------------------------------------------------------------------------
    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            # A client belongs to one event loop; the CLI and tests may run several.
            self._client = httpx.AsyncClient(
                base_url=self.base,
                timeout=self.timeout,
                auth=(self.settings.stripe_secret_key, ""),
                headers={"Stripe-Version": STRIPE_VERSION, "User-Agent": "medmarket"},
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None

    async def _get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        for delay in (*_GET_RETRIES, None):
            try:
                response = await self._http().get(path, params=form_fields(params or {}))
            except httpx.TransportError:
                if delay is None:
                    raise
            else:
                transient = response.status_code == 429 or response.status_code >= 500
                if not transient or delay is None:
                    return response
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _post(
        self, path: str, data: Mapping[str, Any], idempotency_key: str
    ) -> httpx.Response:
        for delay in (*_GET_RETRIES, None):
            try:
                return await self._http().post(
                    path, data=form_fields(data), headers={"Idempotency-Key": idempotency_key}
                )
            except httpx.ConnectError:
                # The request never left; sending it again cannot charge twice.
                if delay is None:
                    raise
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.status_code == 401:
            raise StripeError("Stripe refused the secret key (401)")
        if response.status_code >= 500 or response.status_code == 429:
            raise StripeError(f"Stripe answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise StripeError(f"Stripe answered {response.status_code} with no JSON") from None
        if not isinstance(body, dict):
            raise StripeError("Stripe answered an unexpected shape")
        return body

    def _ok(self, response: httpx.Response) -> dict[str, Any]:
        body = self._json(response)
        if response.status_code >= 400:
            error = body.get("error") or {}
            raise StripeError(f"Stripe answered {response.status_code}: {error.get('message')}")
        return body

    # -- mapping ---------------------------------------------------------------------------
    def _client_params(self) -> dict[str, str]:
        return {
            "publishable_key": self.settings.stripe_publishable_key,
            "js_url": self.settings.stripe_js,
            "api_base": self.base,
        }

    def _payment(self, intent: Mapping[str, Any]) -> GatewayPayment:
        raw = str(intent.get("status") or "")
        error = intent.get("last_payment_error") or None
        status: GatewayStatus
        if raw == "requires_payment_method" and error:
            status = "failed"  # declined: this attempt is over for us
        elif raw in _AWAITING or raw in ("processing", "succeeded", "canceled"):
            status = raw  # type: ignore[assignment]
        else:
            status = "processing"  # requires_capture and anything newer: not final
        action = None
        if status in _AWAITING and intent.get("client_secret"):
            action = ClientAction(
                flow="stripe.js",
                params={**self._client_params(), "client_secret": str(intent["client_secret"])},
            )
        metadata = intent.get("metadata") or {}
        return GatewayPayment(
            gateway_id=self.id,
            external_id=str(intent["id"]),
            reference=str(metadata.get("reference") or ""),
            status=status,
            amount=Money(int(intent.get("amount") or 0), str(intent.get("currency", "")).upper()),
            client_action=action,
            failure_code=(error or {}).get("code") or (error or {}).get("decline_code"),
            failure_message=(error or {}).get("message"),
            raw_status=raw,
        )

    def _refund(self, refund: Mapping[str, Any]) -> GatewayRefund:
        raw = str(refund.get("status") or "pending")
        payment_intent = refund.get("payment_intent")
        if isinstance(payment_intent, Mapping):
            payment_intent = payment_intent.get("id")
        return GatewayRefund(
            gateway_id=self.id,
            external_id=str(refund["id"]),
            reference=str((refund.get("metadata") or {}).get("reference") or ""),
            status=_REFUND_STATUS.get(raw, "pending"),  # type: ignore[arg-type]
            amount=Money(int(refund.get("amount") or 0), str(refund.get("currency", "")).upper()),
            external_payment_id=str(payment_intent or ""),
            failure_message=refund.get("failure_reason"),
        )

    # -- payments --------------------------------------------------------------------------
    async def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        data = {
            "amount": request.amount.amount,
            "currency": request.amount.currency.lower(),
            "payment_method_types": ["card"],
            # localstripe has no "description" parameter; metadata works on both.
            "metadata": {
                **request.metadata,
                "reference": request.reference,
                "description": request.description[:500],
            },
        }
        response = await self._post("/v1/payment_intents", data, f"{request.reference}:create")
        return self._payment(self._ok(response))

    async def retrieve_payment(self, external_id: str) -> GatewayPayment:
        return self._payment(self._ok(await self._get(f"/v1/payment_intents/{external_id}")))

    async def confirm_payment(
        self, external_id: str, payment_method: str, idempotency_key: str
    ) -> GatewayPayment:
        path = f"/v1/payment_intents/{external_id}"
        attach = await self._post(
            path, {"payment_method": payment_method}, f"{idempotency_key}:payment-method"
        )
        if attach.status_code in (400, 404):
            current = await self.retrieve_payment(external_id)
            if current.status not in _AWAITING:
                return current  # already charged or closed: nothing to attach to
            message = (self._json(attach).get("error") or {}).get("message") or "unknown"
            raise PaymentRejected(
                f"the payment method was not accepted: {message}", code="payment-method"
            )
        self._ok(attach)
        confirmed = await self._post(f"{path}/confirm", {}, f"{idempotency_key}:confirm")
        if confirmed.status_code in (400, 402, 404):
            # A decline (402), or a confirm that was refused: the intent says what happened
            # (it may have succeeded already, and then there is nothing to complain about).
            current = await self.retrieve_payment(external_id)
            error = self._json(confirmed).get("error") or {}
            if confirmed.status_code == 402 and current.status in _AWAITING:
                return msgspec.structs.replace(
                    current,
                    status="failed",
                    client_action=None,
                    failure_code=error.get("code") or "card_declined",
                    failure_message=error.get("message"),
                )
            if confirmed.status_code != 402 and current.status in _AWAITING:
                raise PaymentRejected(
                    f"the payment was not accepted: {error.get('message') or 'refused'}",
                    code="payment-method",
                )
            return current
        return self._payment(self._ok(confirmed))

    async def cancel_payment(self, external_id: str) -> GatewayPayment:
        response = await self._post(
            f"/v1/payment_intents/{external_id}/cancel", {}, f"{external_id}:cancel"
        )
        if response.status_code == 400:
            return await self.retrieve_payment(external_id)  # succeeded or already closed
        return self._payment(self._ok(response))

    async def find_by_reference(self, reference: str) -> Sequence[GatewayPayment]:
        if self._search_supported is not False:
            response = await self._get(
                "/v1/payment_intents/search",
                {"query": f"metadata['reference']:'{reference}'", "limit": _PAGE},
            )
            if response.status_code == 200:
                self._search_supported = True
                return [self._payment(i) for i in self._ok(response).get("data", [])]
            if self._search_supported is None and response.status_code in (400, 404):
                self._search_supported = False
            else:
                self._ok(response)
        found: list[GatewayPayment] = []
        async for intent in self._list("/v1/payment_intents", {}):
            if (intent.get("metadata") or {}).get("reference") == reference:
                found.append(self._payment(intent))
        return found

    async def _list(self, path: str, params: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]]:
        after: str | None = None
        while True:
            page = self._ok(
                await self._get(path, {**params, "limit": _PAGE, "starting_after": after})
            )
            items = page.get("data") or []
            for item in items:
                yield item
            if not page.get("has_more") or not items:
                return
            after = str(items[-1]["id"])

    # -- refunds ---------------------------------------------------------------------------
    async def refund(self, request: RefundRequest) -> GatewayRefund:
        data = {
            "payment_intent": request.external_payment_id,
            "amount": request.amount.amount,
            # Stripe's own "reason" takes three words only; ours travels in metadata.
            "metadata": {"reference": request.reference, "reason": request.reason},
        }
        response = await self._post("/v1/refunds", data, f"{request.reference}:refund")
        if response.status_code == 400:
            message = (self._json(response).get("error") or {}).get("message") or "refused"
            raise PaymentRejected(f"the gateway refused the refund: {message}", code="refund")
        return self._refund(self._ok(response))

    async def find_refund(self, external_payment_id: str, reference: str) -> GatewayRefund | None:
        async for refund in self._list("/v1/refunds", {"payment_intent": external_payment_id}):
            if (refund.get("metadata") or {}).get("reference") == reference:
                return self._refund(refund)
        return None

    # -- webhooks --------------------------------------------------------------------------
    async def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        stripe_signature.verify(
            headers.get("stripe-signature"),
            body,
            self.settings.stripe_webhook_secrets,
            now=time.time(),
        )
        try:
            event = json.loads(body)
            event_id, event_type = str(event["id"]), str(event["type"])
            created = dt.datetime.fromtimestamp(int(event["created"]), dt.UTC)
            obj = event["data"]["object"]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected(f"the event cannot be read: {exc!r}") from None
        kind = obj.get("object") if isinstance(obj, dict) else None
        return WebhookEvent(
            event_id=event_id,
            type=event_type,
            created_at=created,
            payment=self._payment(obj) if kind == "payment_intent" else None,
            refund=self._refund(obj) if kind == "refund" else None,
        )

    def webhook_ack(self) -> WebhookAck:
        return WebhookAck()

    def client_setup(self) -> ClientAction:
        return ClientAction(flow="stripe.js", params=self._client_params())

    async def health(self) -> HealthReport:
        if not self.settings.stripe_secret_key:
            return HealthReport(healthy=False, detail="MEDMARKET_STRIPE_SECRET_KEY is not set")
        response = await self._get("/v1/balance")
        if response.status_code != 200:
            return HealthReport(
                healthy=False, detail=f"{self.base} answered {response.status_code}"
            )
        secrets = (
            "webhooks verified" if self.settings.stripe_webhook_secrets else "NO webhook secret"
        )
        return HealthReport(healthy=True, detail=f"{self.base}; {secrets}")


@hookimpl
def medmarket_payment_gateways(settings: Settings) -> Sequence[StripeGateway]:
    return [StripeGateway(settings)]
