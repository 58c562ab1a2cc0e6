"""Pharmacy orders from payment to the courier while the app and the worker are SIGKILLed
on the way: the app at the payment's dangerous points and every time right after the
courier made the waybill at a hand-over (before we recorded it), the worker half of the
times it does the same from the outbox. Clients (the patient paying, the pharmacist at the
desk) keep retrying through the crashes. Every order ends dispatched with exactly one
charge, at localstripe and in the ledger, heard of by the order once, and exactly one
waybill at the courier, whose number the delivery records.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from courier_http_tests.server import CourierServer
from litestar import Litestar

from medmarket.orders.tests.helpers import (
    DESK,
    Approved,
    address,
    approved_prescription,
    ordered,
)
from medmarket.settings import Settings
from medmarket.tests.support.crashing import (
    RETRYABLE,
    CrashingServer,
    CrashingWorker,
    pay_until_paid,
)
from medmarket.tests.support.payments import LocalStripe

pytestmark = pytest.mark.slow

DISPATCH_POINT = "delivery.dispatch.after_courier_call"
APP_FAILPOINTS = ",".join(
    [
        "payments.create.after_gateway_call=kill:0.3",
        "payments.confirm.after_gateway_call=kill:0.3",
        # The hand-over's own dispatch always dies: the worker must finish every one.
        f"{DISPATCH_POINT}=kill",
    ]
)
WORKER_FAILPOINTS = f"{DISPATCH_POINT}=kill:0.5"
ORDERS_PER_BATCH = 3
MAX_BATCHES = 4  # batches until the worker was killed at least once
PATIENCE = 60.0  # seconds, for each step through the crashes
DESK_STEPS = [("accept", "accepted"), ("pack", "packed"), ("hand-over", "dispatched")]


def platform_environment(courier: CourierServer) -> dict[str, str]:
    """What both processes need to reach the test courier: the plugin configured for it,
    and loopback allowed for outbound calls."""
    return {
        **courier.environment(timeout_seconds="2"),
        "MEDMARKET_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
    }


@dataclass
class Placed:
    """An order of a fresh prescription to the patient's door, placed (not paid)."""

    approved: Approved
    id: uuid.UUID

    @classmethod
    async def new(cls, app: Litestar) -> Placed:
        approved = await approved_prescription(app)
        home = await address(app, approved.patient)
        order = await ordered(app, approved, fulfilment="delivery", address_id=home)
        return cls(approved, uuid.UUID(order["id"]))


async def step_until_done(http: httpx.AsyncClient, order: Placed, step: str, target: str) -> None:
    """The pharmacist presses ``step`` until the order is ``target``: a retry whose first try
    went through before the app died is answered 409 with ``status_now`` the target."""
    path = f"{DESK}/{order.id}/{step}"
    pharmacist = order.approved.pharmacy.pharmacist
    deadline = time.monotonic() + PATIENCE
    seen = "nothing"
    while time.monotonic() < deadline:
        with contextlib.suppress(*RETRYABLE):
            answer = await http.post(path, headers=pharmacist.headers)
            if answer.is_success:
                return
            problem: dict[str, Any] = answer.json()
            if (
                answer.status_code == 409
                and problem["type"].endswith("/wrong-order-status")
                and problem["status_now"] == target
            ):
                return
            seen = f"{answer.status_code} {answer.text[:300]}"
            assert answer.status_code == 503, seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"{step} of order {order.id} never went through: {seen}")


async def through_the_crashes(http: httpx.AsyncClient, order: Placed) -> None:
    await pay_until_paid(http, order.approved.patient, order.id, purpose="pharmacy_order")
    for step, target in DESK_STEPS:
        await step_until_done(http, order, step, target)


async def until_dispatched(app: Litestar, worker: CrashingWorker, orders: list[uuid.UUID]) -> None:
    """Wait while the worker (restarted after each kill) dispatches every order's delivery."""
    deadline = time.monotonic() + PATIENCE
    waiting = -1
    while time.monotonic() < deadline:
        worker.check()
        waiting = await app.state.services.db.fetchval(
            "SELECT count(*) FROM deliveries WHERE subject_id = ANY($1) AND status = 'requested'",
            orders,
        )
        if waiting == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{waiting} deliveries never dispatched; see {worker.log}")


async def check_charged_once(
    app: Litestar, localstripe: LocalStripe, orders: list[uuid.UUID]
) -> None:
    db = app.state.services.db
    intents = await localstripe.all("/v1/payment_intents")
    charges = await localstripe.all("/v1/charges")
    for order in orders:
        mine = [i for i in intents if i["metadata"].get("subject_id") == str(order)]
        charged = [i for i in mine if i["status"] == "succeeded"]
        assert len(charged) == 1, (order, [i["status"] for i in mine])
        paid_charges = [c for c in charges if c["payment_intent"] == charged[0]["id"] and c["paid"]]
        assert len(paid_charges) == 1
        rows = await db.fetch(
            "SELECT status, external_id, is_duplicate FROM payments WHERE subject_id = $1", order
        )
        succeeded = [r for r in rows if r["status"] == "succeeded"]
        assert [(r["external_id"], r["is_duplicate"]) for r in succeeded] == [
            (charged[0]["id"], False)
        ]
        booked = await db.fetchval(
            "SELECT count(*) FROM ledger_transactions t JOIN payments p ON p.id = t.payment_id "
            "WHERE p.subject_id = $1 AND t.kind = 'charge'",
            order,
        )
        assert booked == 1
        heard = await db.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'pharmacy_order.paid' "
            "AND subject_id = $1",
            str(order),
        )
        assert heard == 1  # the order heard of its payment exactly once


async def check_dispatched_once(
    app: Litestar, courier: CourierServer, orders: list[uuid.UUID]
) -> int:
    """Each order dispatched with one waybill, the one the delivery records; returns how
    many times the couriers were asked for a waybill of these orders."""
    db = app.state.services.db
    asked = 0
    for order in orders:
        status = await db.fetchval("SELECT status FROM pharmacy_orders WHERE id = $1", order)
        assert status == "dispatched", (order, status)
        [delivery] = await db.fetch(
            "SELECT reference, status, tracking_number FROM deliveries WHERE subject_id = $1",
            order,
        )
        reference = delivery["reference"]
        made = [w for w in courier.waybills.values() if w.out_order_no == reference]
        assert len(made) == 1, (order, [w.waybill_no for w in made])
        assert delivery["status"] == "created"
        assert delivery["tracking_number"] == made[0].waybill_no
        requests = [
            r
            for r in courier.requests
            if (r.method, r.path) == ("POST", "/v1/waybills")
            and r.json()["out_order_no"] == reference
        ]
        # Every retry is the same request under the same key: the courier made one waybill.
        assert {r.headers.get("idempotency-key") for r in requests} == {reference}
        asked += len(requests)
    return asked


@pytest.mark.timeout(300)
async def test_killed_between_payment_and_dispatch_charges_and_dispatches_each_order_once(
    courier_app: Litestar,
    courier: CourierServer,
    settings: Settings,
    localstripe: LocalStripe,
    tmp_path: Path,
) -> None:
    app = courier_app
    environment = platform_environment(courier)
    server = CrashingServer(
        settings, APP_FAILPOINTS, tmp_path / "app.log", extra_environment=environment
    )
    worker = CrashingWorker(
        settings,
        WORKER_FAILPOINTS,
        tmp_path / "worker.log",
        extra_environment={
            **environment,
            "MEDMARKET_OUTBOX_LEASE_SECONDS": "1",
            "MEDMARKET_OUTBOX_POLL_SECONDS": "0.1",
        },
    )
    orders: list[uuid.UUID] = []
    async with (
        server.running(),
        worker.running(),
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
    ):
        for _ in range(MAX_BATCHES):
            batch = [await Placed.new(app) for _ in range(ORDERS_PER_BATCH)]
            orders.extend(order.id for order in batch)
            await asyncio.gather(*(through_the_crashes(http, order) for order in batch))
            await until_dispatched(app, worker, orders)
            if worker.kills:
                break

    await check_charged_once(app, localstripe, orders)
    asked = await check_dispatched_once(app, courier, orders)
    # Both died after the courier's answer (the app at each hand-over): the courier was asked
    # again each time, and still made one waybill an order.
    assert server.kills > 0 and worker.kills > 0, (server.kills, worker.kills)
    assert asked >= len(orders) + worker.kills, (asked, worker.kills)
