"""The outbox worker: claims due messages with SKIP LOCKED, delivers them, retries with backoff.

Claiming sets a lease (``leased_until``) and commits, so no transaction stays open while a
handler talks to the outside world. A worker that dies mid-delivery leaves the lease to run
out; another worker then claims the message again. Delivery is therefore at least once, and
every handler must be idempotent (each message carries its outbox id as the key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec

from medmarket.db import Database

log = logging.getLogger("medmarket.outbox")


class OutboxMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    topic: str
    payload: dict[str, Any]
    attempts: int


Handler = Callable[[OutboxMessage], Awaitable[None]]


class UnknownTopic(Exception):
    pass


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 3600.0) -> float:
    """Exponential backoff with full jitter: attempt 1 waits up to 2 s, 2 up to 4 s, ..."""
    return random.uniform(0, min(cap, base**attempt))


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        *,
        lease_seconds: float,
        max_attempts: int,
        batch_size: int = 20,
    ) -> None:
        self.db = db
        self.handlers = dict(handlers)
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.batch_size = batch_size

    async def claim(self) -> list[OutboxMessage]:
        rows = await self.db.fetch(
            """
            WITH due AS (
                SELECT id FROM outbox
                 WHERE delivered_at IS NULL AND abandoned_at IS NULL
                   AND available_at <= now()
                   AND (leased_until IS NULL OR leased_until < now())
                 ORDER BY available_at, id
                 LIMIT $1
                 FOR UPDATE SKIP LOCKED
            )
            UPDATE outbox o
               SET leased_until = now() + make_interval(secs => $2),
                   attempts = o.attempts + 1
              FROM due
             WHERE o.id = due.id
            RETURNING o.id, o.topic, o.payload, o.attempts
            """,
            self.batch_size,
            float(self.lease_seconds),
        )
        return sorted((OutboxMessage(**dict(row)) for row in rows), key=lambda m: m.id)

    async def deliver(self, message: OutboxMessage) -> bool:
        handler = self.handlers.get(message.topic)
        try:
            if handler is None:
                raise UnknownTopic(f"no handler for topic {message.topic!r}")
            await handler(message)
        except Exception as exc:
            await self._failed(message, exc)
            return False
        await self.db.execute(
            "UPDATE outbox SET delivered_at = now(), leased_until = NULL, last_error = NULL "
            "WHERE id = $1",
            message.id,
        )
        return True

    async def _failed(self, message: OutboxMessage, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= self.max_attempts:
            log.error(
                "outbox %s (%s) abandoned after %s attempts: %s",
                message.id,
                message.topic,
                message.attempts,
                error,
            )
            await self.db.execute(
                "UPDATE outbox SET abandoned_at = now(), leased_until = NULL, last_error = $2 "
                "WHERE id = $1",
                message.id,
                error,
            )
            return
        delay = backoff_seconds(message.attempts)
        log.warning(
            "outbox %s (%s) attempt %s failed, retry in %.1fs: %s",
            message.id,
            message.topic,
            message.attempts,
            delay,
            error,
        )
        await self.db.execute(
            """
            UPDATE outbox SET available_at = now() + make_interval(secs => $2),
                              leased_until = NULL, last_error = $3
             WHERE id = $1
            """,
            message.id,
            delay,
            error,
        )

    async def run_once(self) -> int:
        """Claim and deliver one batch; returns how many messages were delivered."""
        delivered = 0
        for message in await self.claim():
            delivered += await self.deliver(message)
        return delivered

    async def run_forever(self, poll_seconds: float, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("outbox batch failed")
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
