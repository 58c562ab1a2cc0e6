"""The built-in Stripe gateway against localstripe: what it sends and how it reads answers."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qs

import httpx
import pytest

from medmarket.payments.interface import (
    GatewayPayment,
    Money,
    PaymentGateway,
    PaymentRejected,
    PaymentRequest,
    RefundRequest,
    WebhookRejected,
)
from medmarket.payments.stripe_gateway import StripeGateway, form_fields
from medmarket.payments.stripe_signature import sign
from medmarket.settings import Settings
from medmarket.testing.contracts import PaymentGatewayContract
from medmarket.testing.http_recorder import HttpRecorder, Recorded, Reply
from medmarket.tests.support.fixtures import make_settings
from medmarket.tests.support.payments import STRIPE_WEBHOOK_SECRET, LocalStripe, stripe_settings

DECLINED = "4000000000000341"  # localstripe declines this card when charged
Paying = Callable[[PaymentGateway, GatewayPayment], Awaitable[GatewayPayment]]


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[StripeGateway]:
    stripe = StripeGateway(settings)
    yield stripe
    await stripe.aclose()


def request(amount: int = 5000) -> PaymentRequest:
    return PaymentRequest(
        reference=f"pay_{uuid.uuid4().hex}",
        amount=Money(amount, "CNY"),
        description="王医生 视频问诊",
        metadata={"purpose": "test_payable"},
    )


def test_form_encoding_nests_like_stripe() -> None:
    assert form_fields(
        {"amount": 5, "metadata": {"a": "1", "b": {"c": "2"}}, "types": ["card"], "x": None}
    ) == {"amount": "5", "metadata[a]": "1", "metadata[b][c]": "2", "types[0]": "card"}


class TestStripeGatewayContract(PaymentGatewayContract):
    """The contract every payment gateway passes, against localstripe."""

    @pytest.fixture
    async def gateway(self, settings: Settings) -> AsyncIterator[StripeGateway]:
        stripe = StripeGateway(settings)
        yield stripe
        await stripe.aclose()

    @pytest.fixture
    def approve(self, localstripe: LocalStripe) -> Paying:
        async def pay(gateway: PaymentGateway, payment: GatewayPayment) -> GatewayPayment:
            card = await localstripe.card_token()
            return await gateway.confirm_payment(payment.external_id, card, payment.reference)

        return pay

    @pytest.fixture
    def decline(self, localstripe: LocalStripe) -> Paying:
        async def pay(gateway: PaymentGateway, payment: GatewayPayment) -> GatewayPayment:
            card = await localstripe.card_token(DECLINED)
            return await gateway.confirm_payment(payment.external_id, card, payment.reference)

        return pay


async def test_pay_with_a_card(gateway: StripeGateway, localstripe: LocalStripe) -> None:
    asked = request(5000)
    created = await gateway.create_payment(asked)
    assert created.status == "requires_payment_method"
    assert created.reference == asked.reference and created.amount == Money(5000, "CNY")
    action = created.client_action
    assert action is not None and action.flow == "stripe.js"
    assert action.params["client_secret"].startswith(created.external_id + "_secret_")
    assert action.params["js_url"] == localstripe.url + "/js.stripe.com/v3/"

    card = await localstripe.card_token()
    paid = await gateway.confirm_payment(created.external_id, card, f"{asked.reference}:1")
    assert paid.status == "succeeded" and paid.client_action is None
    # Confirming again neither charges nor fails: it reports the payment as it stands.
    again = await gateway.confirm_payment(created.external_id, card, f"{asked.reference}:2")
    assert again.status == "succeeded"
    charges = await localstripe.all("/v1/charges")
    assert [c["amount"] for c in charges if c["payment_intent"] == created.external_id] == [5000]


async def test_a_declined_card_fails_the_attempt(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    created = await gateway.create_payment(request())
    card = await localstripe.card_token(DECLINED)
    declined = await gateway.confirm_payment(created.external_id, card, "k")
    assert declined.status == "failed"
    assert declined.failure_code == "card_declined"
    assert declined.failure_message
    closed = await gateway.cancel_payment(created.external_id)
    assert closed.status == "canceled"


async def test_an_unknown_payment_method_is_rejected(gateway: StripeGateway) -> None:
    created = await gateway.create_payment(request())
    with pytest.raises(PaymentRejected) as caught:
        await gateway.confirm_payment(created.external_id, "pm_does_not_exist", "k")
    assert caught.value.code == "payment-method"


async def test_cancel_after_success_reports_success(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    created = await gateway.create_payment(request())
    await gateway.confirm_payment(created.external_id, await localstripe.card_token(), "k")
    assert (await gateway.cancel_payment(created.external_id)).status == "succeeded"


async def test_find_by_reference_finds_every_intent_with_it(gateway: StripeGateway) -> None:
    asked = request()
    assert await gateway.find_by_reference(asked.reference) == []
    first = await gateway.create_payment(asked)
    second = await gateway.create_payment(asked)  # localstripe ignores idempotency keys
    found = await gateway.find_by_reference(asked.reference)
    assert {f.external_id for f in found} == {first.external_id, second.external_id}


async def test_refunds_full_and_partial_and_finding_them(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    created = await gateway.create_payment(request(8000))
    await gateway.confirm_payment(created.external_id, await localstripe.card_token(), "k")
    partial = RefundRequest(
        reference=f"rf_{uuid.uuid4().hex}",
        external_payment_id=created.external_id,
        amount=Money(3000, "CNY"),
        reason="doctor_no_show",
    )
    refunded = await gateway.refund(partial)
    assert refunded.status == "succeeded" and refunded.amount == Money(3000, "CNY")
    assert refunded.external_payment_id == created.external_id
    found = await gateway.find_refund(created.external_id, partial.reference)
    assert found is not None and found.external_id == refunded.external_id
    assert await gateway.find_refund(created.external_id, "rf_unknown") is None


async def test_every_post_carries_an_idempotency_key_and_form_encoding(
    database_url: str,
) -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []
    bodies: list[bytes] = []

    def answer(recorded: Recorded) -> Reply:
        seen.append((recorded.method, recorded.path, recorded.headers))
        bodies.append(recorded.body)
        return Reply(
            body={
                "id": "pi_x",
                "object": "payment_intent",
                "status": "requires_payment_method",
                "amount": 100,
                "currency": "cny",
                "metadata": {"reference": "pay_r"},
                "client_secret": "pi_x_secret_y",
            }
        )

    with HttpRecorder(answer).serving() as fake:
        stripe = StripeGateway(make_settings(database_url, **stripe_settings(fake.url)))
        try:
            await stripe.create_payment(request(100))
            await stripe.cancel_payment("pi_x")
            await stripe.retrieve_payment("pi_x")
        finally:
            await stripe.aclose()
    posts = [headers for method, _, headers in seen if method == "POST"]
    assert len(posts) == 2
    assert all(h.get("idempotency-key") for h in posts)
    assert posts[0]["content-type"] == "application/x-www-form-urlencoded"
    created = parse_qs(bodies[0].decode())
    assert created["amount"] == ["100"] and created["currency"] == ["cny"]
    assert created["metadata[reference]"][0].startswith("pay_")
    assert created["metadata[purpose]"] == ["test_payable"]
    assert posts[0]["idempotency-key"] == created["metadata[reference]"][0] + ":create"
    assert all(h["authorization"].startswith("Basic ") for _, _, h in seen)


async def test_a_post_that_timed_out_is_not_sent_again(database_url: str) -> None:
    with HttpRecorder(lambda recorded: Reply(body={}, delay=1.5)).serving() as slow:
        settings = make_settings(
            database_url, plugin_timeout_seconds=0.5, **stripe_settings(slow.url)
        )
        stripe = StripeGateway(settings)
        try:
            with pytest.raises(httpx.ReadTimeout):
                await stripe.create_payment(request())
        finally:
            await stripe.aclose()
        assert slow.wait_for(1)
        time.sleep(0.2)
        assert len(slow.requests) == 1  # it may have charged: reconciliation decides


async def test_a_get_is_retried_after_a_server_error(database_url: str) -> None:
    answers = iter([Reply(status=503, body={}), Reply(body={"available": []})])
    with HttpRecorder(lambda recorded: next(answers)).serving() as flaky:
        stripe = StripeGateway(make_settings(database_url, **stripe_settings(flaky.url)))
        try:
            report = await stripe.health()
        finally:
            await stripe.aclose()
    assert report.healthy
    assert len(flaky.requests) == 2


async def test_health_says_what_is_missing(database_url: str) -> None:
    stripe = StripeGateway(make_settings(database_url))
    assert not (await stripe.health()).healthy


async def test_webhook_parsing_verifies_and_reads_intents(gateway: StripeGateway) -> None:
    event = {
        "id": "evt_123",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "pi_1",
                "object": "payment_intent",
                "status": "succeeded",
                "amount": 5000,
                "currency": "cny",
                "metadata": {"reference": "pay_abc"},
            }
        },
    }
    body = json.dumps(event).encode()
    header = sign(body, STRIPE_WEBHOOK_SECRET, int(time.time()))
    parsed = await gateway.parse_webhook({"stripe-signature": header}, body)
    assert parsed.event_id == "evt_123"
    assert parsed.payment is not None and parsed.payment.status == "succeeded"
    assert parsed.payment.reference == "pay_abc"
    with pytest.raises(WebhookRejected):
        await gateway.parse_webhook({"stripe-signature": header}, body + b" ")
    unreadable = b"not json"
    with pytest.raises(WebhookRejected, match="cannot be read"):
        await gateway.parse_webhook(
            {"stripe-signature": sign(unreadable, STRIPE_WEBHOOK_SECRET, int(time.time()))},
            unreadable,
        )
