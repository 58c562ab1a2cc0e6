"""Test support for payments: a payable purpose of the tests' own, localstripe, and helpers.

``SamplePayables`` ("test_payable") stands in for bookings and pharmacy orders: rows in a
``test_payables`` table (created in each test database, never by a migration) that count
how often each purpose callback ran, so tests can assert "exactly once".
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from litestar import Litestar

from medmarket.app import create_app
from medmarket.db import Connection
from medmarket.domain import Domain
from medmarket.errors import Conflict
from medmarket.payments import refunds
from medmarket.payments.interface import Money
from medmarket.payments.purposes import PAYMENT_PURPOSES, Payable, PaymentView, RefundView
from medmarket.services import provide
from medmarket.settings import load_settings
from medmarket.signaling.messages import MAX_FRAME_BYTES

ROOT = Path(__file__).resolve().parents[4]
STRIPE_WEBHOOK_SECRET = "whsec_medmarket_tests_0123456789abcdef"
STRIPE_SECRET_KEY = "sk_test_medmarket"
STRIPE_PUBLISHABLE_KEY = "pk_test_medmarket"

TEST_PAYABLES_TABLE = """
CREATE TABLE IF NOT EXISTS test_payables (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    payer_id     uuid NOT NULL,
    amount       bigint NOT NULL,
    doctor_id    uuid,
    hospital_id  uuid,
    pharmacy_id  uuid,
    state        text NOT NULL DEFAULT 'open',
    paid_count   integer NOT NULL DEFAULT 0,
    failed_count integer NOT NULL DEFAULT 0,
    refunded     bigint NOT NULL DEFAULT 0
)
"""


class SamplePayables:
    """A payable that is open until paid; 'closed' ones (given up) refund late payments."""

    name = "test_payable"

    async def payable(self, connection: Connection, subject_id: uuid.UUID) -> Payable | None:
        row = await connection.fetchrow("SELECT * FROM test_payables WHERE id = $1", subject_id)
        if row is None:
            return None
        if row["state"] != "open":
            raise Conflict("this can no longer be paid", field="subject_id", code="closed")
        return Payable(
            amount=Money(row["amount"], "CNY"),
            description=f"测试 {subject_id}",
            payer_id=row["payer_id"],
            doctor_id=row["doctor_id"],
            hospital_id=row["hospital_id"],
            pharmacy_id=row["pharmacy_id"],
        )

    async def on_succeeded(self, connection: Connection, payment: PaymentView) -> None:
        state = await connection.fetchval(
            """
            UPDATE test_payables SET paid_count = paid_count + 1,
                   state = CASE WHEN state = 'open' THEN 'paid' ELSE state END
             WHERE id = $1 RETURNING state
            """,
            payment.subject_id,
        )
        if state == "closed":
            await refunds.request_refund(
                connection,
                purpose=self.name,
                subject_id=payment.subject_id,
                reason="late_payment",
                key="late-payment",
            )

    async def on_failed(self, connection: Connection, payment: PaymentView) -> None:
        await connection.execute(
            "UPDATE test_payables SET failed_count = failed_count + 1 WHERE id = $1",
            payment.subject_id,
        )

    async def on_refunded(
        self, connection: Connection, payment: PaymentView, refund: RefundView
    ) -> None:
        await connection.execute(
            "UPDATE test_payables SET refunded = refunded + $2 WHERE id = $1",
            payment.subject_id,
            refund.amount.amount,
        )


async def create_test_payables_table(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(TEST_PAYABLES_TABLE)
    finally:
        await connection.close()


async def new_payable(
    app: Litestar,
    payer_id: str | uuid.UUID,
    amount: int = 5000,
    *,
    doctor_id: uuid.UUID | None = None,
    hospital_id: uuid.UUID | None = None,
    pharmacy_id: uuid.UUID | None = None,
) -> uuid.UUID:
    value = await app.state.services.db.fetchval(
        "INSERT INTO test_payables (payer_id, amount, doctor_id, hospital_id, pharmacy_id) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        uuid.UUID(str(payer_id)),
        amount,
        doctor_id,
        hospital_id,
        pharmacy_id,
    )
    return uuid.UUID(str(value))


def stripe_settings(localstripe_url: str) -> dict[str, Any]:
    """Settings that point the built-in Stripe gateway at a localstripe."""
    return {
        "stripe_api_base": localstripe_url,
        "stripe_secret_key": STRIPE_SECRET_KEY,
        "stripe_publishable_key": STRIPE_PUBLISHABLE_KEY,
        "stripe_webhook_secrets": [STRIPE_WEBHOOK_SECRET],
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """The localstripe that ``infra/services.py --with localstripe`` started, or one of this
    session's own."""
    started = os.environ.get("MEDMARKET_LOCALSTRIPE_URL")
    if started:
        yield started.rstrip("/")
        return
    python = ROOT / ".venv-localstripe" / "bin" / "python"
    if not python.exists():
        pytest.exit("localstripe is not installed: run infra/setup --test", returncode=2)
    port = free_port()
    child = subprocess.Popen(
        [str(python), str(ROOT / "infra" / "run_localstripe.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(timeout=10)


class LocalStripe:
    """Talking to localstripe directly, as the browser or as Stripe's dashboard would."""

    def __init__(self, url: str) -> None:
        self.url = url

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, auth=(STRIPE_SECRET_KEY, ""), timeout=30)

    async def register_webhook(self, name: str, url: str, secret: str) -> None:
        async with self.client() as http:
            response = await http.post(
                f"/_config/webhooks/{name}", data={"url": url, "secret": secret}
            )
            response.raise_for_status()

    async def card_token(self, number: str = "4242424242424242") -> str:
        """What Stripe.js does in the browser: a card becomes an id (``card_...``)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            response = await http.post(
                "/v1/tokens",
                data={
                    "card[number]": number,
                    "card[exp_month]": "12",
                    "card[exp_year]": "2030",
                    "card[cvc]": "123",
                    "key": STRIPE_PUBLISHABLE_KEY,
                },
            )
            response.raise_for_status()
            return str(response.json()["card"]["id"])

    async def all(self, path: str, **params: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after: str | None = None
        async with self.client() as http:
            while True:
                query = {**params, "limit": "100", **({"starting_after": after} if after else {})}
                page = (await http.get(path, params=query)).raise_for_status().json()
                found.extend(page["data"])
                if not page["has_more"] or not page["data"]:
                    return found
                after = page["data"][-1]["id"]

    async def intents_for(self, subject_id: uuid.UUID) -> list[dict[str, Any]]:
        intents = await self.all("/v1/payment_intents")
        return [i for i in intents if i["metadata"].get("subject_id") == str(subject_id)]

    async def events_about(self, object_id: str) -> list[dict[str, Any]]:
        events = await self.all("/v1/events")
        return [e for e in events if e["data"]["object"].get("id") == object_id]


@pytest.fixture(scope="session")
def localstripe(localstripe_url: str) -> LocalStripe:
    return LocalStripe(localstripe_url)


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[str]:
    """Serve an app whose lifespan already runs on a real port (localstripe sends webhooks
    to it); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ws_max_size=MAX_FRAME_BYTES,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


# A domain of the tests' own that takes payments for ``test_payable``.
SAMPLE_PAYABLES = Domain(
    name="test payables",
    provides=[provide(PAYMENT_PURPOSES, lambda services: SamplePayables())],
)


def app_with_sample_payables() -> Litestar:
    """ASGI factory for a real uvicorn process in tests (the crash test)."""
    return create_app(load_settings(), extra_domains=[SAMPLE_PAYABLES])


async def new_hospital(app: Litestar, name: str | None = None) -> uuid.UUID:
    value = await app.state.services.db.fetchval(
        "INSERT INTO hospitals (name, level, region) VALUES ($1, '三级甲等', '湖北省 恩施州') "
        "RETURNING id",
        name or f"测试医院 {uuid.uuid4().hex[:8]}",
    )
    return uuid.UUID(str(value))


async def new_doctor(app: Litestar, user_id: str | uuid.UUID, hospital_id: uuid.UUID) -> uuid.UUID:
    value = await app.state.services.db.fetchval(
        """
        INSERT INTO doctors (user_id, hospital_id, full_name, licence_number, title, status)
        VALUES ($1, $2, '王医生', $3, '主治医师', 'approved') RETURNING id
        """,
        uuid.UUID(str(user_id)),
        hospital_id,
        f"L{uuid.uuid4().hex[:12]}",
    )
    return uuid.UUID(str(value))


async def deliver_outbox(app: Litestar, *, rounds: int = 500) -> None:
    """Run the outbox worker until nothing is left to deliver (what `medmarket worker` does).
    The session's database holds what every earlier test queued and nobody delivered (their
    notifications, above all), so ``rounds`` only guards against a handler that never ends
    the backlog: a batch is 20 messages."""
    from medmarket.domains import DOMAINS, outbox_handlers
    from medmarket.outbox.worker import OutboxWorker

    services = app.state.services
    handlers = outbox_handlers(DOMAINS, services)
    worker = OutboxWorker(services.db, handlers, lease_seconds=30, max_attempts=5)
    for _ in range(rounds):
        if not await worker.run_once():
            return
