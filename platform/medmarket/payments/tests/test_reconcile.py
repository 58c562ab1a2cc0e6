"""A failure at each dangerous point (an exception here; the crash test kills the process),
then recovery by the client repeating its request or by reconciliation: always exactly one
charge, nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket.app import create_app
from medmarket.payments import refunds
from medmarket.payments.reconcile import Reconciler
from medmarket.payments.refunding import Refunder
from medmarket.payments.service import Payments
from medmarket.tests.support.fixtures import Account, client_for, make_settings, running
from medmarket.tests.support.payments import (
    SAMPLE_PAYABLES,
    LocalStripe,
    deliver_outbox,
    new_payable,
    stripe_settings,
)


def failing_app(database_url: str, localstripe_url: str, point: str) -> Litestar:
    settings = make_settings(
        database_url, failpoints=f"{point}=error", **stripe_settings(localstripe_url)
    )
    return create_app(settings, extra_domains=[SAMPLE_PAYABLES])


async def start(http: httpx.AsyncClient, patient: Account, subject: uuid.UUID) -> httpx.Response:
    return await http.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(subject)},
        headers=patient.headers,
    )


async def confirm(
    http: httpx.AsyncClient, patient: Account, payment_id: str, card: str
) -> httpx.Response:
    return await http.post(
        f"/api/payments/{payment_id}/confirm",
        json={"payment_method": card},
        headers=patient.headers,
    )


async def settle(app: Litestar, subject: uuid.UUID) -> None:
    reconciler = Reconciler(Payments(app.state.services))
    ids = await app.state.services.db.fetch(
        "SELECT id FROM payments WHERE subject_id = $1", subject
    )
    for row in ids:
        await reconciler.settle_payment(row["id"])


async def outcome(
    app: Litestar, localstripe: LocalStripe, subject: uuid.UUID
) -> tuple[list[str], list[str], int]:
    """(our attempts' statuses, the gateway's intents' statuses, times the payable was paid)"""
    db = app.state.services.db
    ours = await db.fetch(
        "SELECT status FROM payments WHERE subject_id = $1 ORDER BY created_at", subject
    )
    paid = await db.fetchval("SELECT paid_count FROM test_payables WHERE id = $1", subject)
    theirs = sorted(intent["status"] for intent in await localstripe.intents_for(subject))
    return [row["status"] for row in ours], theirs, paid


@pytest.mark.parametrize("recovery", ["client repeats", "reconciliation"])
@pytest.mark.parametrize(
    "point",
    [
        "payments.create.before_gateway_call",
        "payments.create.after_gateway_call",
        "payments.create.after_commit",
    ],
)
async def test_a_failure_while_starting(
    point: str,
    recovery: str,
    app: Litestar,
    database_url: str,
    localstripe_url: str,
    localstripe: LocalStripe,
    sign_up: Callable[..., Any],
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    broken = failing_app(database_url, localstripe_url, point)
    async with running(broken), client_for(broken) as http:
        assert (await start(http, patient, subject)).status_code == 500
    async with client_for(app) as http:
        if recovery == "reconciliation":
            await settle(app, subject)
        again = await start(http, patient, subject)
        assert again.status_code in (200, 201)
        paid = await confirm(http, patient, again.json()["id"], await localstripe.card_token())
        assert paid.json()["status"] == "succeeded"
    ours, theirs, times = await outcome(app, localstripe, subject)
    assert ours.count("succeeded") == 1 and theirs.count("succeeded") == 1 and times == 1
    # An attempt that never reached the gateway may be closed; none is left half open.
    assert set(ours) <= {"succeeded", "canceled"}
    assert set(theirs) <= {"succeeded", "canceled"}


@pytest.mark.parametrize("recovery", ["client repeats", "reconciliation"])
@pytest.mark.parametrize(
    "point",
    [
        "payments.confirm.before_gateway_call",
        "payments.confirm.after_gateway_call",
        "payments.confirm.after_commit",
    ],
)
async def test_a_failure_while_charging(
    point: str,
    recovery: str,
    app: Litestar,
    database_url: str,
    localstripe_url: str,
    localstripe: LocalStripe,
    sign_up: Callable[..., Any],
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    card = await localstripe.card_token()
    broken = failing_app(database_url, localstripe_url, point)
    async with running(broken), client_for(broken) as http:
        payment = (await start(http, patient, subject)).json()
        assert (await confirm(http, patient, payment["id"], card)).status_code == 500
    async with client_for(app) as http:
        if recovery == "reconciliation":
            await settle(app, subject)
            status = (
                await http.get(f"/api/payments/{payment['id']}", headers=patient.headers)
            ).json()["status"]
            charged = point != "payments.confirm.before_gateway_call"
            assert status == ("succeeded" if charged else "open")  # nothing lost
        paid = await confirm(http, patient, payment["id"], card)
        assert paid.json()["status"] == "succeeded"
    assert await outcome(app, localstripe, subject) == (["succeeded"], ["succeeded"], 1)
    charges = await localstripe.all("/v1/charges")
    (intent,) = await localstripe.intents_for(subject)
    assert len([c for c in charges if c["payment_intent"] == intent["id"]]) == 1


@pytest.mark.parametrize(
    "point",
    [
        "payments.refund.before_gateway_call",
        "payments.refund.after_gateway_call",
        "payments.refund.after_commit",
    ],
)
async def test_a_failure_while_refunding(
    point: str,
    app: Litestar,
    database_url: str,
    localstripe_url: str,
    localstripe: LocalStripe,
    sign_up: Callable[..., Any],
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id, 3000)
    async with client_for(app) as http:
        payment = (await start(http, patient, subject)).json()
        await confirm(http, patient, payment["id"], await localstripe.card_token())
    db = app.state.services.db
    async with db.transaction() as connection:
        refund = await refunds.request_refund(
            connection, purpose="test_payable", subject_id=subject, reason="doctor_no_show", key="x"
        )
    assert refund is not None
    broken = failing_app(database_url, localstripe_url, point)
    async with running(broken):
        with pytest.raises(Exception, match=point):
            await Refunder(Payments(broken.state.services)).execute(refund.id)
    await Reconciler(Payments(app.state.services)).settle_refund(refund.id)
    await deliver_outbox(app)
    assert await db.fetchval("SELECT status FROM payment_refunds WHERE id = $1", refund.id) == (
        "succeeded"
    )
    (intent,) = await localstripe.intents_for(subject)
    assert [
        r["amount"] for r in await localstripe.all("/v1/refunds", payment_intent=intent["id"])
    ] == [3000]
    assert await db.fetchval("SELECT refunded FROM test_payables WHERE id = $1", subject) == 3000


async def test_reconciliation_closes_attempts_left_open_too_long(
    app: Litestar, localstripe: LocalStripe, sign_up: Callable[..., Any]
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    async with client_for(app) as http:
        payment = (await start(http, patient, subject)).json()
    db = app.state.services.db
    await db.execute(
        "UPDATE payments SET created_at = now() - interval '2 hours' WHERE id = $1",
        uuid.UUID(payment["id"]),
    )
    assert await Reconciler(Payments(app.state.services)).settle_payment(uuid.UUID(payment["id"]))
    assert await outcome(app, localstripe, subject) == (["canceled"], ["canceled"], 0)


async def test_reconciliation_leaves_young_rows_to_the_requests_in_progress(
    app: Litestar, sign_up: Callable[..., Any]
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    db = app.state.services.db
    await db.execute(
        "INSERT INTO payments (reference, purpose, subject_id, payer_id, amount, currency, "
        "description, gateway_id) VALUES ($1, 'test_payable', $2, $3, 100, 'CNY', 'x', 'stripe')",
        f"pay_{uuid.uuid4().hex}",
        subject,
        uuid.UUID(patient.id),
    )
    await Reconciler(Payments(app.state.services)).run(grace_seconds=3600)
    assert await db.fetchval("SELECT status FROM payments WHERE subject_id = $1", subject) == (
        "pending"
    )
    report = await Reconciler(Payments(app.state.services)).run(grace_seconds=0)
    assert report.examined >= 1
    assert await db.fetchval("SELECT status FROM payments WHERE subject_id = $1", subject) == (
        "canceled"
    )


async def test_the_reconcile_command(
    app: Litestar, localstripe: LocalStripe, localstripe_url: str, sign_up: Callable[..., Any]
) -> None:
    patient = await sign_up("patient")
    subject = await new_payable(app, patient.id)
    async with client_for(app) as http:
        payment = (await start(http, patient, subject)).json()
    intent = payment["client_action"]["params"]["client_secret"].split("_secret_")[0]
    async with localstripe.client() as stripe:  # paid in the browser; the webhook was lost
        await stripe.post(f"/v1/payment_intents/{intent}", data={"payment_method": "pm_card_visa"})
        await stripe.post(f"/v1/payment_intents/{intent}/confirm")
    settings = app.state.settings
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "MEDMARKET_SECRET_KEY": settings.secret_key,
        "MEDMARKET_STRIPE_API_BASE": localstripe_url,
        "MEDMARKET_STRIPE_SECRET_KEY": settings.stripe_secret_key,
    }
    result = subprocess.run(
        [sys.executable, "-m", "medmarket.cli", "reconcile", "--grace", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("examined ")
    status = await app.state.services.db.fetchval(
        "SELECT status FROM payments WHERE id = $1", uuid.UUID(payment["id"])
    )
    assert status == "succeeded"
