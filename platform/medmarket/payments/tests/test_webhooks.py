"""Stripe webhooks: only authentic, fresh events are accepted; each event has one effect
however often and in whatever order it arrives."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from medmarket.app import create_app
from medmarket.payments import refunds
from medmarket.payments.stripe_signature import sign
from medmarket.settings import Settings
from medmarket.tests.support.fixtures import Account, client_for, running
from medmarket.tests.support.payments import (
    SAMPLE_PAYABLES,
    STRIPE_WEBHOOK_SECRET,
    LocalStripe,
    deliver_outbox,
    new_payable,
    serving,
)

HOOK = "/api/payments/webhooks/stripe"
DECLINED = "4000000000000341"


async def deliver(
    http: httpx.AsyncClient,
    event: dict[str, Any],
    *,
    secret: str = STRIPE_WEBHOOK_SECRET,
    at: int | None = None,
    header: str | None = None,
) -> httpx.Response:
    body = json.dumps(event).encode()
    signature = header if header is not None else sign(body, secret, at or int(time.time()))
    return await http.post(
        HOOK,
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def open_attempt(
    app: Litestar, http: httpx.AsyncClient, patient: Account
) -> tuple[uuid.UUID, dict[str, Any]]:
    subject = await new_payable(app, patient.id, 6600)
    started = await http.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(subject)},
        headers=patient.headers,
    )
    assert started.status_code == 201, started.text
    return subject, started.json()


async def pay_at_gateway(localstripe: LocalStripe, payment: dict[str, Any], card: str) -> str:
    """The payer finishes in the gateway's own page (Stripe.js): our API is not involved."""
    intent: str = payment["client_action"]["params"]["client_secret"].split("_secret_")[0]
    async with localstripe.client() as stripe:
        await stripe.post(f"/v1/payment_intents/{intent}", data={"payment_method": card})
        await stripe.post(f"/v1/payment_intents/{intent}/confirm")
    return intent


async def counts(app: Litestar, subject: uuid.UUID) -> tuple[int, int, int]:
    db = app.state.services.db
    row = await db.fetchrow(
        "SELECT paid_count, failed_count FROM test_payables WHERE id = $1", subject
    )
    charges = await db.fetchval(
        "SELECT count(*) FROM ledger_transactions t JOIN payments p ON p.id = t.payment_id "
        "WHERE p.subject_id = $1 AND t.kind = 'charge'",
        subject,
    )
    return row["paid_count"], row["failed_count"], charges


def event_of(kind: str, intent: dict[str, Any], created: int) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex[:14]}",
        "object": "event",
        "type": kind,
        "created": created,
        "data": {"object": intent},
    }


async def test_inauthentic_or_stale_events_are_refused(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any]
) -> None:
    patient = await sign_up("patient")
    subject, payment = await open_attempt(app, client, patient)
    intent = {
        "id": payment["client_action"]["params"]["client_secret"].split("_secret_")[0],
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 6600,
        "currency": "cny",
        "metadata": {"reference": "x"},
    }
    event = event_of("payment_intent.succeeded", intent, int(time.time()))
    now = int(time.time())
    body = json.dumps(event).encode()
    refused = [
        await deliver(client, event, header=""),
        await deliver(client, event, header="t=1,v1=zz"),
        await deliver(client, event, secret="whsec_somebody_else"),
        await deliver(client, event, at=now - 301),
        await deliver(client, event, at=now + 301),
        await deliver(client, event, header=sign(body + b" ", STRIPE_WEBHOOK_SECRET, now)),
        await deliver(
            client, event, header=f"t={now},v0={sign(body, STRIPE_WEBHOOK_SECRET, now)[-64:]}"
        ),
        await client.post(HOOK, content=body),
    ]
    for response in refused:
        assert response.status_code == 400, response.text
        assert response.json()["type"] == "/problems/webhook-rejected"
    unknown = await client.post("/api/payments/webhooks/wechat", content=body)
    assert unknown.status_code == 404
    huge = await client.post(HOOK, content=b"x" * (600 * 1024))
    assert huge.status_code in (400, 413)
    recorded = await app.state.services.db.fetchval(
        "SELECT count(*) FROM payment_webhook_events WHERE event_id = $1", event["id"]
    )
    assert recorded == 0
    assert await counts(app, subject) == (0, 0, 0)
    # Many refusals do not open the gateway's circuit breaker: real events still get in.
    assert (await deliver(client, event)).status_code == 200


async def test_a_rotated_secret_is_accepted_during_the_rotation(settings: Settings) -> None:
    new_secret = "whsec_new_secret_value"
    rotating = msgspec.structs.replace(
        settings, stripe_webhook_secrets=[new_secret, STRIPE_WEBHOOK_SECRET]
    )
    intent = {"id": "pi_elsewhere", "object": "payment_intent", "status": "processing",
              "amount": 1, "currency": "cny", "metadata": {}}  # fmt: skip

    def fresh() -> dict[str, Any]:
        return event_of("payment_intent.processing", intent, int(time.time()))

    application = create_app(rotating, extra_domains=[SAMPLE_PAYABLES])
    async with running(application) as app, client_for(app) as http:
        assert (await deliver(http, fresh(), secret=STRIPE_WEBHOOK_SECRET)).status_code == 200
        assert (await deliver(http, fresh(), secret=new_secret)).status_code == 200
        # Stripe signs with every live secret during a rotation: several v1 values.
        event = fresh()
        body, now = json.dumps(event).encode(), int(time.time())
        valid = sign(body, new_secret, now).split(",")[1]
        several = f"{sign(body, 'whsec_unknown', now)},v1={'0' * 64},{valid}"
        assert (await deliver(http, event, header=several)).status_code == 200
        assert (await deliver(http, fresh(), secret="whsec_retired")).status_code == 400


async def test_a_success_event_pays_once_however_often_it_arrives(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject, payment = await open_attempt(app, client, patient)
    intent = await pay_at_gateway(localstripe, payment, await localstripe.card_token())
    (succeeded,) = [
        e for e in await localstripe.events_about(intent) if e["type"] == "payment_intent.succeeded"
    ]
    answers = await asyncio.gather(*(deliver(client, succeeded) for _ in range(5)))
    assert {a.status_code for a in answers} == {200}
    for _ in range(3):
        assert (await deliver(client, succeeded)).status_code == 200
    assert await counts(app, subject) == (1, 0, 1)
    db = app.state.services.db
    seen = await db.fetchval(
        "SELECT count(*) FROM payment_webhook_events WHERE event_id = $1", succeeded["id"]
    )
    successes = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE subject_id = $1 AND action = 'payment.succeeded'",
        payment["id"],
    )
    assert (seen, successes) == (1, 1)
    shown = await client.get(f"/api/payments/{payment['id']}", headers=patient.headers)
    assert shown.json()["status"] == "succeeded"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
async def test_shuffled_events_end_in_the_same_state(
    order: tuple[int, ...],
    app: Litestar,
    client: httpx.AsyncClient,
    sign_up: Callable[..., Any],
    localstripe: LocalStripe,
) -> None:
    patient = await sign_up("patient")
    subject, payment = await open_attempt(app, client, patient)
    intent = await pay_at_gateway(localstripe, payment, await localstripe.card_token())
    (real,) = [e for e in await localstripe.events_about(intent) if e["type"].endswith("succeeded")]
    earlier = real["created"] - 10
    waiting = {**real["data"]["object"], "status": "requires_payment_method", "latest_charge": None}
    acting = {**real["data"]["object"], "status": "requires_action"}
    events = [
        event_of("payment_intent.created", waiting, earlier),
        event_of("payment_intent.requires_action", acting, earlier + 5),
        real,
    ]
    for index in order:
        assert (await deliver(client, events[index])).status_code == 200
    row = await app.state.services.db.fetchrow(
        "SELECT status, gateway_status FROM payments WHERE id = $1", uuid.UUID(payment["id"])
    )
    assert (row["status"], row["gateway_status"]) == ("succeeded", "succeeded")
    assert await counts(app, subject) == (1, 0, 1)


@pytest.mark.parametrize("failed_first", [True, False])
async def test_a_decline_and_an_older_event_in_either_order(
    failed_first: bool,
    app: Litestar,
    client: httpx.AsyncClient,
    sign_up: Callable[..., Any],
    localstripe: LocalStripe,
) -> None:
    patient = await sign_up("patient")
    subject, payment = await open_attempt(app, client, patient)
    intent = await pay_at_gateway(localstripe, payment, await localstripe.card_token(DECLINED))
    (failed,) = [e for e in await localstripe.events_about(intent) if e["type"].endswith("failed")]
    created = event_of(
        "payment_intent.created",
        {**failed["data"]["object"], "last_payment_error": None},
        failed["created"] - 10,
    )
    for event in [failed, created] if failed_first else [created, failed]:
        assert (await deliver(client, event)).status_code == 200
    status = await app.state.services.db.fetchval(
        "SELECT status FROM payments WHERE id = $1", uuid.UUID(payment["id"])
    )
    assert status == "failed"
    assert await counts(app, subject) == (0, 1, 0)


async def test_events_about_other_systems_payments_are_acknowledged_and_ignored(
    client: httpx.AsyncClient,
) -> None:
    event = event_of(
        "payment_intent.succeeded",
        {"id": "pi_elsewhere", "object": "payment_intent", "status": "succeeded", "amount": 1,
         "currency": "usd", "metadata": {}},
        int(time.time()),
    )  # fmt: skip
    assert (await deliver(client, event)).status_code == 200
    other = event_of("customer.created", {"id": "cus_1", "object": "customer"}, int(time.time()))
    assert (await deliver(client, other)).status_code == 200


async def test_a_refund_event_can_arrive_before_our_own_call(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject, payment = await open_attempt(app, client, patient)
    await client.post(
        f"/api/payments/{payment['id']}/confirm",
        json={"payment_method": await localstripe.card_token()},
        headers=patient.headers,
    )
    db = app.state.services.db
    async with db.transaction() as connection:
        requested = await refunds.request_refund(
            connection, purpose="test_payable", subject_id=subject, reason="out_of_stock",
            key="item-1", amount=600,
        )  # fmt: skip
    assert requested is not None
    reference = await db.fetchval(
        "SELECT reference FROM payment_refunds WHERE id = $1", requested.id
    )
    intent = payment["client_action"]["params"]["client_secret"].split("_secret_")[0]
    async with localstripe.client() as stripe:
        made = await stripe.post(
            "/v1/refunds",
            data={"payment_intent": intent, "amount": "600", "metadata[reference]": reference},
        )
    event = event_of("refund.updated", made.json(), int(time.time()))
    for _ in range(2):
        assert (await deliver(client, event)).status_code == 200
    assert await db.fetchval("SELECT status FROM payment_refunds WHERE id = $1", requested.id) == (
        "succeeded"
    )
    await deliver_outbox(app)  # our own call now finds the refund done and sends nothing
    assert len(await localstripe.all("/v1/refunds", payment_intent=intent)) == 1
    assert await db.fetchval("SELECT refunded FROM test_payables WHERE id = $1", subject) == 600


async def test_localstripe_delivers_signed_events_to_the_running_app(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject, payment = await open_attempt(app, client, patient)
    name = f"tests-{uuid.uuid4().hex[:8]}"
    async with serving(app) as base_url:
        await localstripe.register_webhook(name, base_url + HOOK, STRIPE_WEBHOOK_SECRET)
        try:
            await pay_at_gateway(localstripe, payment, await localstripe.card_token())
            for _ in range(100):  # localstripe sends a second after the event
                if (await counts(app, subject))[0]:
                    break
                await asyncio.sleep(0.1)
        finally:
            await localstripe.register_webhook(name, "http://127.0.0.1:9/", "whsec_unused")
    assert await counts(app, subject) == (1, 0, 1)


async def test_forged_webhooks_never_open_the_gateways_breaker(
    settings: Settings, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    """An unauthenticated stranger sends 100 malformed or forged notifications, among them a
    timestamp of 400 digits that once overflowed the check and counted as the gateway failing
    (5 failures opened the breaker and every patient's payment got 503)."""
    now = int(time.time())
    forgeries = [
        f"t={'9' * 400},v1=aa",
        f"t={'9' * 13},v1={'0' * 64}",
        "t=-1,v1=aa",
        "t=１２３,v1=aa",
        f"t={now},v1=",
        "garbage",
        "t=,v1=aa",
    ]
    application = create_app(settings, extra_domains=[SAMPLE_PAYABLES])
    async with running(application) as app, client_for(app) as http:
        patient = await sign_up("patient")
        for attempt in range(100):
            answer = await http.post(
                HOOK,
                content=b'{"id": "evt_forged"}',
                headers={b"Stripe-Signature": forgeries[attempt % len(forgeries)].encode()},
            )
            assert answer.status_code == 400, answer.text
            assert answer.json()["type"] == "/problems/webhook-rejected"
        subject, payment = await open_attempt(app, http, patient)
        paid = await http.post(
            f"/api/payments/{payment['id']}/confirm",
            json={"payment_method": await localstripe.card_token()},
            headers=patient.headers,
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["status"] == "succeeded"
        assert await counts(app, subject) == (1, 0, 1)
