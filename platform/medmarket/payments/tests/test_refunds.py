"""Refunds: full and partial, by operators and by domains inside their own transactions,
never more than was paid, once per request key, and reversed in the ledger."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket.app import create_app
from medmarket.errors import InvalidInput
from medmarket.payments import refunds
from medmarket.payments.reconcile import Reconciler
from medmarket.payments.service import Payments
from medmarket.tests.support.fixtures import Account, client_for, make_settings, running
from medmarket.tests.support.payments import (
    SAMPLE_PAYABLES,
    LocalStripe,
    deliver_outbox,
    new_doctor,
    new_hospital,
    new_payable,
    stripe_settings,
)


async def paid_payable(
    app: Litestar,
    client: httpx.AsyncClient,
    localstripe: LocalStripe,
    patient: Account,
    amount: int = 8000,
    **parties: Any,
) -> tuple[uuid.UUID, str]:
    subject = await new_payable(app, patient.id, amount, **parties)
    started = await client.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(subject)},
        headers=patient.headers,
    )
    payment_id = started.json()["id"]
    paid = await client.post(
        f"/api/payments/{payment_id}/confirm",
        json={"payment_method": await localstripe.card_token()},
        headers=patient.headers,
    )
    assert paid.json()["status"] == "succeeded", paid.text
    return subject, payment_id


async def balances(app: Litestar, payment_id: str) -> dict[str, int]:
    rows = await app.state.services.db.fetch(
        """
        SELECT a.kind, sum(e.amount) AS total
          FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
          JOIN ledger_transactions t ON t.id = e.transaction_id
         WHERE t.payment_id = $1 GROUP BY a.kind
        """,
        uuid.UUID(payment_id),
    )
    return {row["kind"]: int(row["total"]) for row in rows}


async def test_operator_refunds_part_then_the_rest(
    app: Litestar,
    client: httpx.AsyncClient,
    sign_up: Callable[..., Any],
    operator: Account,
    localstripe: LocalStripe,
) -> None:
    patient, doctor_account = await sign_up("patient"), await sign_up("doctor")
    hospital = await new_hospital(app)
    doctor = await new_doctor(app, doctor_account.id, hospital)
    subject, payment_id = await paid_payable(
        app, client, localstripe, patient, 8000, doctor_id=doctor, hospital_id=hospital
    )
    # Default shares: platform 10%, hospital 20%, doctor the rest.
    assert await balances(app, payment_id) == {
        "gateway_clearing": 8000,
        "platform_commission": -800,
        "hospital_payable": -1600,
        "doctor_payable": -5600,
    }
    part = await client.post(
        f"/api/payments/{payment_id}/refunds",
        json={"amount": 3000, "reason": "doctor_cancelled"},
        headers=operator.headers,
    )
    assert part.status_code == 201, part.text
    assert part.json()["status"] == "succeeded" and part.json()["amount"]["amount"] == 3000
    assert await balances(app, payment_id) == {
        "gateway_clearing": 5000,
        "platform_commission": -500,
        "hospital_payable": -1000,
        "doctor_payable": -3500,
    }
    rest = await client.post(
        f"/api/payments/{payment_id}/refunds", json={}, headers=operator.headers
    )
    assert rest.json()["amount"]["amount"] == 5000 and rest.json()["status"] == "succeeded"
    assert set((await balances(app, payment_id)).values()) == {0}
    more = await client.post(
        f"/api/payments/{payment_id}/refunds", json={"amount": 1}, headers=operator.headers
    )
    assert more.status_code == 422 and more.json()["errors"][0]["field"] == "amount"
    (intent,) = await localstripe.intents_for(subject)
    at_gateway = await localstripe.all("/v1/refunds", payment_intent=intent["id"])
    assert sorted(r["amount"] for r in at_gateway) == [3000, 5000]
    row = await app.state.services.db.fetchrow(
        "SELECT refunded FROM test_payables WHERE id = $1", subject
    )
    assert row["refunded"] == 8000
    listed = await client.get(f"/api/payments/{payment_id}/refunds", headers=patient.headers)
    assert [r["amount"]["amount"] for r in listed.json()] == [3000, 5000]


async def test_more_than_was_paid_is_refused_and_nothing_is_reserved(
    app: Litestar,
    client: httpx.AsyncClient,
    sign_up: Callable[..., Any],
    operator: Account,
    localstripe: LocalStripe,
) -> None:
    _, payment_id = await paid_payable(app, client, localstripe, await sign_up("patient"))
    refused = await client.post(
        f"/api/payments/{payment_id}/refunds", json={"amount": 8001}, headers=operator.headers
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "amount"
    reserved = await app.state.services.db.fetchval(
        "SELECT refunded_amount FROM payments WHERE id = $1", uuid.UUID(payment_id)
    )
    assert reserved == 0


async def test_the_database_refuses_to_refund_more_than_the_payment(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    import asyncpg

    _, payment_id = await paid_payable(app, client, localstripe, await sign_up("patient"))
    with pytest.raises(asyncpg.CheckViolationError):
        await app.state.services.db.execute(
            "UPDATE payments SET refunded_amount = amount + 1 WHERE id = $1", uuid.UUID(payment_id)
        )


async def test_one_idempotency_key_refunds_once_even_in_parallel(
    app: Litestar,
    client: httpx.AsyncClient,
    sign_up: Callable[..., Any],
    operator: Account,
    localstripe: LocalStripe,
) -> None:
    subject, payment_id = await paid_payable(app, client, localstripe, await sign_up("patient"))
    headers = {**operator.headers, "Idempotency-Key": "ticket-4711"}
    answers = await asyncio.gather(
        *(
            client.post(
                f"/api/payments/{payment_id}/refunds", json={"amount": 500}, headers=headers
            )
            for _ in range(4)
        )
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    (intent,) = await localstripe.intents_for(subject)
    assert len(await localstripe.all("/v1/refunds", payment_intent=intent["id"])) == 1


async def test_a_domain_refunds_inside_its_own_transaction(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    subject, _ = await paid_payable(app, client, localstripe, await sign_up("patient"))
    db = app.state.services.db

    class CancellationFailed(Exception):
        pass

    async def cancellation_that_fails() -> None:
        async with db.transaction() as connection:
            await refunds.request_refund(
                connection, purpose="test_payable", subject_id=subject, reason="x_y", key="k"
            )
            raise CancellationFailed

    with pytest.raises(CancellationFailed):
        await cancellation_that_fails()
    assert await db.fetchval("SELECT count(*) FROM payment_refunds WHERE request_key = 'k'") == 0

    async with db.transaction() as connection:
        requested = await refunds.request_refund(
            connection,
            purpose="test_payable",
            subject_id=subject,
            reason="doctor_no_show",
            key="no-show",
        )
    assert requested is not None and requested.status == "pending"
    assert requested.amount.amount == 8000
    async with db.transaction() as connection:
        again = await refunds.request_refund(
            connection,
            purpose="test_payable",
            subject_id=subject,
            reason="doctor_no_show",
            key="no-show",
        )
    assert again is not None and again.id == requested.id
    await deliver_outbox(app)
    status = await db.fetchval("SELECT status FROM payment_refunds WHERE id = $1", requested.id)
    assert status == "succeeded"
    assert await db.fetchval("SELECT refunded FROM test_payables WHERE id = $1", subject) == 8000
    async with db.transaction() as connection:
        nothing_left = await refunds.request_refund(
            connection, purpose="test_payable", subject_id=subject, reason="x_y", key="later"
        )
        with pytest.raises(InvalidInput):
            await refunds.request_refund(
                connection,
                purpose="test_payable",
                subject_id=subject,
                reason="x_y",
                key="later",
                amount=1,
            )
    assert nothing_left is None


async def test_nothing_paid_means_nothing_to_refund(app: Litestar) -> None:
    async with app.state.services.db.transaction() as connection:
        assert (
            await refunds.request_refund(
                connection, purpose="test_payable", subject_id=uuid.uuid4(), reason="x_y", key="k"
            )
            is None
        )


async def test_cancel_open_attempts_closes_them_at_the_gateway(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    await client.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(subject)},
        headers=patient.headers,
    )
    db = app.state.services.db
    async with db.transaction() as connection:
        canceled = await refunds.cancel_open_attempts(connection, "test_payable", subject)
    assert [c.status for c in canceled] == ["canceled"]
    await deliver_outbox(app)
    (intent,) = await localstripe.intents_for(subject)
    assert intent["status"] == "canceled"
    closed = await db.fetchval("SELECT closed_at FROM payments WHERE subject_id = $1", subject)
    assert closed is not None


async def test_a_late_payment_for_something_given_up_is_refunded(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    patient = await sign_up("patient")
    late = await new_payable(app, patient.id, 4000)
    started = await client.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(late)},
        headers=patient.headers,
    )
    db = app.state.services.db
    await db.execute("UPDATE test_payables SET state = 'closed' WHERE id = $1", late)
    paid = await client.post(
        f"/api/payments/{started.json()['id']}/confirm",
        json={"payment_method": await localstripe.card_token()},
        headers=patient.headers,
    )
    assert paid.json()["status"] == "succeeded"
    await deliver_outbox(app)
    row = await db.fetchrow("SELECT paid_count, refunded FROM test_payables WHERE id = $1", late)
    assert (row["paid_count"], row["refunded"]) == (1, 4000)


async def test_a_second_charge_for_one_payable_is_refunded_automatically(
    app: Litestar, client: httpx.AsyncClient, sign_up: Callable[..., Any], localstripe: LocalStripe
) -> None:
    """Attempt A is abandoned in our database but the payer still completes it in the
    gateway's page, after paying attempt B: the payable was charged twice."""
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id, 3000)
    start = {"purpose": "test_payable", "subject_id": str(subject)}
    first = (await client.post("/api/payments", json=start, headers=patient.headers)).json()
    db = app.state.services.db
    async with db.transaction() as connection:
        await refunds.cancel_open_attempts(connection, "test_payable", subject)
    second = (await client.post("/api/payments", json=start, headers=patient.headers)).json()
    card = await localstripe.card_token()
    await client.post(
        f"/api/payments/{second['id']}/confirm",
        json={"payment_method": card},
        headers=patient.headers,
    )
    intent = first["client_action"]["params"]["client_secret"].split("_secret_")[0]
    async with localstripe.client() as stripe:
        await stripe.post(f"/v1/payment_intents/{intent}", data={"payment_method": card})
        assert (await stripe.post(f"/v1/payment_intents/{intent}/confirm")).status_code == 200

    reconciler = Reconciler(Payments(app.state.services))
    assert await reconciler.settle_payment(uuid.UUID(first["id"]))
    await deliver_outbox(app)
    rows = await db.fetch(
        "SELECT id, status, is_duplicate, refunded_amount FROM payments WHERE subject_id = $1",
        subject,
    )
    by_id = {str(row["id"]): row for row in rows}
    assert by_id[first["id"]]["status"] == "succeeded" and by_id[first["id"]]["is_duplicate"]
    assert by_id[first["id"]]["refunded_amount"] == 3000
    assert not by_id[second["id"]]["is_duplicate"]
    refunded = await localstripe.all("/v1/refunds", payment_intent=intent)
    assert [r["amount"] for r in refunded] == [3000]
    counts = await db.fetchrow(
        "SELECT paid_count, refunded FROM test_payables WHERE id = $1", subject
    )
    assert (counts["paid_count"], counts["refunded"]) == (1, 0)  # the domain saw one payment


async def test_a_refund_asked_for_while_the_gateway_is_down_is_sent_later(
    app: Litestar,
    client: httpx.AsyncClient,
    database_url: str,
    sign_up: Callable[..., Any],
    operator: Account,
    localstripe: LocalStripe,
) -> None:
    subject, payment_id = await paid_payable(app, client, localstripe, await sign_up("patient"))
    down = make_settings(database_url, **stripe_settings("http://127.0.0.1:9"))
    broken = create_app(down, extra_domains=[SAMPLE_PAYABLES])
    async with running(broken), client_for(broken) as http:
        asked = await http.post(
            f"/api/payments/{payment_id}/refunds", json={"amount": 700}, headers=operator.headers
        )
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    await deliver_outbox(app)
    listed = await client.get(f"/api/payments/{payment_id}/refunds", headers=operator.headers)
    assert [(r["amount"]["amount"], r["status"]) for r in listed.json()] == [(700, "succeeded")]
    (intent,) = await localstripe.intents_for(subject)
    assert [
        r["amount"] for r in await localstripe.all("/v1/refunds", payment_intent=intent["id"])
    ] == [700]
