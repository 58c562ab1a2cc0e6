"""Paying for a payable through the API, against localstripe: success, decline, 3-D Secure,
repeated and parallel requests, other people's payments, a gateway that is down."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from litestar import Litestar

from medmarket.app import create_app
from medmarket.tests.support.fixtures import Account, client_for, make_settings, running
from medmarket.tests.support.payments import (
    SAMPLE_PAYABLES,
    LocalStripe,
    deliver_outbox,
    new_payable,
    stripe_settings,
)

DECLINED = "4000000000000341"
NEEDS_3DS = "4000002500003155"


async def start(http: httpx.AsyncClient, payer: Account, subject: uuid.UUID) -> httpx.Response:
    return await http.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(subject)},
        headers=payer.headers,
    )


async def confirm(
    http: httpx.AsyncClient, payer: Account, payment_id: str, method: str
) -> httpx.Response:
    return await http.post(
        f"/api/payments/{payment_id}/confirm",
        json={"payment_method": method},
        headers=payer.headers,
    )


async def payable_row(app: Litestar, subject: uuid.UUID) -> dict[str, Any]:
    row = await app.state.services.db.fetchrow("SELECT * FROM test_payables WHERE id = $1", subject)
    return dict(row)


async def test_pay_for_a_payable(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id, 12800)
    started = await start(client, patient, subject)
    assert started.status_code == 201, started.text
    payment = started.json()
    assert payment["status"] == "open" and payment["amount"] == {"amount": 12800, "currency": "CNY"}
    action = payment["client_action"]
    assert action["flow"] == "stripe.js"
    assert action["params"]["publishable_key"].startswith("pk_")
    assert action["params"]["api_base"] == localstripe.url
    assert action["params"]["client_secret"]

    paid = await confirm(client, patient, payment["id"], await localstripe.card_token())
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "succeeded" and paid.json()["client_action"] is None
    assert (await payable_row(app, subject))["paid_count"] == 1

    again = await start(client, patient, subject)
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "already-paid"
    shown = await client.get(f"/api/payments/{payment['id']}", headers=patient.headers)
    assert shown.json()["status"] == "succeeded"

    db = app.state.services.db
    booked = await db.fetchval(
        "SELECT count(*) FROM ledger_transactions WHERE payment_id = $1 AND kind = 'charge'",
        uuid.UUID(payment["id"]),
    )
    assert booked == 1
    actions = await db.fetch(
        "SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY id", payment["id"]
    )
    assert [a["action"] for a in actions] == ["payment.created", "payment.succeeded"]
    told = await db.fetchval(
        "SELECT payload->>'template' FROM outbox WHERE dedupe_key = $1",
        f"notification:payment.succeeded:{payment['id']}",
    )
    assert told == "payment.succeeded"


async def test_a_declined_card_fails_the_attempt_and_the_next_try_is_new(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    first = (await start(client, patient, subject)).json()
    declined = await confirm(client, patient, first["id"], await localstripe.card_token(DECLINED))
    assert declined.status_code == 200
    body = declined.json()
    assert body["status"] == "failed" and body["failure_code"] == "card_declined"
    assert body["failure_message"]
    row = await payable_row(app, subject)
    assert row["failed_count"] == 1 and row["paid_count"] == 0
    # Confirming the failed attempt again changes nothing.
    again = await confirm(client, patient, first["id"], await localstripe.card_token())
    assert again.json()["status"] == "failed"
    # The attempt is closed at the gateway as well, so it can never charge later.
    closing = await app.state.services.db.fetchval(
        "SELECT count(*) FROM outbox "
        "WHERE topic = 'payments.close' AND payload->>'payment_id' = $1",
        first["id"],
    )
    assert closing == 1
    await deliver_outbox(app)
    (intent,) = await localstripe.intents_for(subject)
    assert intent["status"] == "canceled"
    closed = await app.state.services.db.fetchrow(
        "SELECT status, closed_at FROM payments WHERE id = $1", uuid.UUID(first["id"])
    )
    assert closed["status"] == "failed" and closed["closed_at"] is not None

    second = await start(client, patient, subject)
    assert second.status_code == 201 and second.json()["id"] != first["id"]
    paid = await confirm(client, patient, second.json()["id"], await localstripe.card_token())
    assert paid.json()["status"] == "succeeded"
    assert (await payable_row(app, subject))["paid_count"] == 1


async def test_3d_secure_is_finished_by_the_browser(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    payment = (await start(client, patient, subject)).json()
    pending = await confirm(client, patient, payment["id"], await localstripe.card_token(NEEDS_3DS))
    body = pending.json()
    assert body["status"] == "open" and body["gateway_status"] == "requires_action"
    secret = body["client_action"]["params"]["client_secret"]
    # What Stripe.js's confirmCardPayment does in the browser after the patient authenticates.
    intent = secret.split("_secret_")[0]
    async with httpx.AsyncClient(base_url=localstripe.url) as browser:
        done = await browser.post(
            f"/v1/payment_intents/{intent}/_authenticate?success=true",
            json={"key": "pk_test_medmarket", "client_secret": secret},
        )
        assert done.status_code == 200, done.text
    shown = await client.get(f"/api/payments/{payment['id']}", headers=patient.headers)
    assert shown.json()["status"] == "succeeded"
    assert (await payable_row(app, subject))["paid_count"] == 1


async def test_repeated_and_parallel_requests_make_one_attempt_and_one_charge(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    starts = await asyncio.gather(*(start(client, patient, subject) for _ in range(6)))
    assert sorted(r.status_code for r in starts) == [200] * 5 + [201]
    ids = {r.json()["id"] for r in starts}
    assert len(ids) == 1
    payment_id = ids.pop()
    card = await localstripe.card_token()
    confirms = await asyncio.gather(*(confirm(client, patient, payment_id, card) for _ in range(6)))
    assert {r.status_code for r in confirms} == {200}
    assert {r.json()["status"] for r in confirms} == {"succeeded"}
    intents = await localstripe.intents_for(subject)
    assert len(intents) == 1 and intents[0]["status"] == "succeeded"
    charges = await localstripe.all("/v1/charges")
    assert len([c for c in charges if c["payment_intent"] == intents[0]["id"]]) == 1
    assert (await payable_row(app, subject))["paid_count"] == 1


async def test_nobody_else_sees_or_pays_a_payment(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], operator: Account
) -> None:
    owner, stranger = await sign_up("patient"), await sign_up("patient")
    subject = await new_payable(app, owner.id)
    payment = (await start(client, owner, subject)).json()
    assert (await start(client, stranger, subject)).status_code == 404
    missing = await client.get(f"/api/payments/{uuid.uuid4()}", headers=stranger.headers)
    for response in (
        await client.get(f"/api/payments/{payment['id']}", headers=stranger.headers),
        await confirm(client, stranger, payment["id"], "pm_card_visa"),
        await client.post(f"/api/payments/{payment['id']}/cancel", headers=stranger.headers),
        await client.get(f"/api/payments/{payment['id']}/refunds", headers=stranger.headers),
    ):
        assert response.status_code == 404
        assert response.json()["type"] == missing.json()["type"] == "/problems/not-found"
    listed = await client.get(f"/api/payments?subject_id={subject}", headers=stranger.headers)
    assert listed.json() == []
    seen = await client.get(f"/api/payments/{payment['id']}", headers=operator.headers)
    assert seen.status_code == 200 and seen.json()["client_action"] is None  # not the payer


async def test_bad_input_is_named(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any]
) -> None:
    patient = await sign_up("patient")
    unknown_purpose = await client.post(
        "/api/payments",
        json={"purpose": "spaceship", "subject_id": str(uuid.uuid4())},
        headers=patient.headers,
    )
    assert unknown_purpose.status_code == 422
    assert unknown_purpose.json()["errors"][0]["field"] == "purpose"
    assert (await start(client, patient, uuid.uuid4())).status_code == 404
    extra = await client.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(uuid.uuid4()), "amount": 1},
        headers=patient.headers,
    )
    assert extra.status_code in (400, 422)
    payment = (await start(client, patient, await new_payable(app, patient.id))).json()
    bad = await confirm(client, patient, payment["id"], "4242 4242 4242 4242")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "payment_method"
    unknown = await confirm(client, patient, payment["id"], "pm_nonexistent")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "payment_method"


async def test_cancel_an_unfinished_attempt(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    payment = (await start(client, patient, subject)).json()
    canceled = await client.post(f"/api/payments/{payment['id']}/cancel", headers=patient.headers)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    (intent,) = await localstripe.intents_for(subject)
    assert intent["status"] == "canceled"
    assert (await start(client, patient, subject)).status_code == 201


async def test_the_page_learns_how_to_load_the_gateway(
    client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    answer = (await client.get("/api/payments/gateway", headers=patient.headers)).json()
    assert answer["gateway_id"] == "stripe" and answer["flow"] == "stripe.js"
    assert answer["params"]["js_url"] == localstripe.url + "/js.stripe.com/v3/"
    assert answer["server_confirmation"] is True
    script = httpx.get(answer["params"]["js_url"])
    assert script.status_code == 200 and "confirmCardPayment" in script.text


async def test_a_gateway_outage_is_a_clear_503_and_the_attempt_resumes(
    app: Litestar, database_url: str, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    down = make_settings(database_url, **stripe_settings("http://127.0.0.1:9"))
    broken = create_app(down, extra_domains=[SAMPLE_PAYABLES])
    async with running(broken), client_for(broken) as http:
        failed = await start(http, patient, subject)
    assert failed.status_code == 503
    assert failed.json()["feature"] == "payment: create payment"
    row = await app.state.services.db.fetchrow(
        "SELECT status, create_attempts FROM payments WHERE subject_id = $1", subject
    )
    assert (row["status"], row["create_attempts"]) == ("pending", 1)
    async with client_for(app) as http:
        resumed = await start(http, patient, subject)
    assert resumed.status_code == 200 and resumed.json()["status"] == "open"
    assert len(await localstripe.intents_for(subject)) == 1
