"""The outbox delivers every message at least once, retries with backoff, survives a crash."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar

from medmarket.app import create_app
from medmarket.domains import DOMAINS, outbox_handlers
from medmarket.outbox import enqueue
from medmarket.outbox.worker import OutboxMessage, OutboxWorker, backoff_seconds
from medmarket.settings import Settings
from medmarket.testing.http_recorder import HttpRecorder, Reply
from medmarket.tests.support.fixtures import running

pytestmark = pytest.mark.slow
# The test receivers listen on 127.0.0.1: the operator's allow-list lets webhooks reach them.
LOOPBACK_ALLOWED = ["127.0.0.1/32"]


@pytest.fixture(scope="module")
def webhook_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, outbound_allowed_networks=LOOPBACK_ALLOWED)


@pytest.fixture(scope="module")
async def webhook_app(webhook_settings: Settings) -> AsyncIterator[Litestar]:
    async with running(create_app(webhook_settings)) as application:
        yield application


async def row(app: Litestar, message_id: int) -> dict[str, Any]:
    record = await app.state.services.db.fetchrow("SELECT * FROM outbox WHERE id = $1", message_id)
    return dict(record)


async def put_once(
    app: Litestar, topic: str, payload: dict[str, Any], dedupe_key: str | None = None
) -> int | None:
    """Enqueue a message: its id, or None when ``dedupe_key`` was enqueued before."""
    async with app.state.services.db.transaction() as connection:
        return await enqueue(connection, topic, payload, dedupe_key=dedupe_key)


async def put(app: Litestar, topic: str, payload: dict[str, Any]) -> int:
    """Enqueue a message without a dedupe key, so always a new one: its id."""
    message_id = await put_once(app, topic, payload)
    assert message_id is not None
    return message_id


async def test_dedupe_key_enqueues_once(app: Litestar) -> None:
    key = f"dedupe-{time.time_ns()}"
    first = await put_once(app, "webhook.post", {"url": "http://x", "body": {}}, dedupe_key=key)
    second = await put_once(app, "webhook.post", {"url": "http://x", "body": {}}, dedupe_key=key)
    assert first is not None and second is None


async def test_message_rolled_back_with_its_change_is_never_sent(app: Litestar) -> None:
    marker = f"rolled-back-{time.time_ns()}"

    async def change_that_fails() -> None:
        async with app.state.services.db.transaction() as connection:
            await enqueue(connection, "webhook.post", {"url": "http://x", "body": {"m": marker}})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    count = await app.state.services.db.fetchval(
        "SELECT count(*) FROM outbox WHERE payload->'body'->>'m' = $1", marker
    )
    assert count == 0


async def test_worker_delivers_webhooks_with_an_idempotency_key(webhook_app: Litestar) -> None:
    app = webhook_app
    services = app.state.services
    with HttpRecorder().serving() as receiver:
        message_id = await put(
            app, "webhook.post", {"url": receiver.url + "/hook", "body": {"hello": "世界"}}
        )
        worker = OutboxWorker(
            services.db, outbox_handlers(DOMAINS, services), lease_seconds=30, max_attempts=3
        )
        while (await row(app, message_id))["delivered_at"] is None:
            await worker.run_once()
        assert receiver.requests[-1].json() == {"hello": "世界"}
        assert receiver.requests[-1].headers["idempotency-key"] == f"outbox-{message_id}"


async def test_failures_are_retried_with_backoff_then_abandoned(webhook_app: Litestar) -> None:
    app = webhook_app
    services = app.state.services
    with HttpRecorder(lambda request: Reply(status=503)).serving() as receiver:
        message_id = await put(app, "webhook.post", {"url": receiver.url, "body": {}})
        worker = OutboxWorker(
            services.db, outbox_handlers(DOMAINS, services), lease_seconds=30, max_attempts=2
        )
        delivered = await worker.deliver(
            OutboxMessage(
                **{
                    k: v
                    for k, v in (await row(app, message_id)).items()
                    if k in ("id", "topic", "payload")
                },
                attempts=1,
            )
        )
        assert delivered is False
        after_first = await row(app, message_id)
        assert after_first["delivered_at"] is None and "503" in after_first["last_error"]
        assert after_first["available_at"] >= after_first["created_at"]
        await worker.deliver(
            OutboxMessage(
                id=message_id, topic="webhook.post", payload=after_first["payload"], attempts=2
            )
        )
        assert (await row(app, message_id))["abandoned_at"] is not None


async def test_a_webhook_into_the_platforms_own_network_is_never_sent(app: Litestar) -> None:
    services = app.state.services
    assert services.settings.outbound_allowed_networks == []
    with HttpRecorder().serving() as receiver:
        message_id = await put(app, "webhook.post", {"url": receiver.url + "/hook", "body": {}})
        worker = OutboxWorker(
            services.db, outbox_handlers(DOMAINS, services), lease_seconds=30, max_attempts=3
        )
        delivered = await worker.deliver(
            OutboxMessage(
                id=message_id,
                topic="webhook.post",
                payload=(await row(app, message_id))["payload"],
                attempts=1,
            )
        )
    assert delivered is False
    assert receiver.requests == []
    failed = await row(app, message_id)
    assert failed["delivered_at"] is None
    assert "loopback" in failed["last_error"]  # for the operator; no connection was made


async def test_unknown_topic_is_a_failure_not_a_crash(app: Litestar) -> None:
    services = app.state.services
    message_id = await put(app, "no.such.topic", {})
    worker = OutboxWorker(services.db, {}, lease_seconds=30, max_attempts=5)
    assert (
        await worker.deliver(
            OutboxMessage(id=message_id, topic="no.such.topic", payload={}, attempts=1)
        )
        is False
    )
    assert "no handler" in (await row(app, message_id))["last_error"]


def test_backoff_grows_and_is_capped() -> None:
    assert all(0 <= backoff_seconds(1) <= 2 for _ in range(100))
    assert all(0 <= backoff_seconds(30) <= 3600 for _ in range(100))
    assert max(backoff_seconds(10) for _ in range(200)) > 8


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "MEDMARKET_SECRET_KEY": settings.secret_key,
        "MEDMARKET_OUTBOX_LEASE_SECONDS": "1",
        "MEDMARKET_OUTBOX_POLL_SECONDS": "0.1",
        "MEDMARKET_OUTBOUND_ALLOWED_NETWORKS": ",".join(LOOPBACK_ALLOWED),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "medmarket.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_delivery_survives_a_worker_killed_mid_delivery(
    app: Litestar, settings: Settings
) -> None:
    with HttpRecorder().serving() as receiver:
        receiver.hold()  # the first delivery hangs inside the receiver...
        message_id = await put(app, "webhook.post", {"url": receiver.url, "body": {"n": 1}})
        first = start_worker(settings)
        try:
            assert await asyncio.to_thread(receiver.wait_for, 1, 30)
        finally:
            first.send_signal(signal.SIGKILL)  # ...and its worker dies mid-delivery
            first.wait()
        assert (await row(app, message_id))["delivered_at"] is None
        receiver.let_go()
        second = start_worker(settings)
        try:
            deadline = time.monotonic() + 30
            while (await row(app, message_id))["delivered_at"] is None:
                assert time.monotonic() < deadline, "the message was never delivered"
                await asyncio.sleep(0.1)
        finally:
            second.terminate()
            second.wait()
        keys = {r.headers["idempotency-key"] for r in receiver.requests}
        assert keys == {f"outbox-{message_id}"}  # at least once, recognisably the same message
        assert len(receiver.requests) >= 2
