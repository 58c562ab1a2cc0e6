"""One gateway conversation per payment at a time, across every app instance and worker.

A PostgreSQL session advisory lock on the connection that does the work: a duplicate request
waits for the first to finish and then sees its result, and a process that dies (even by
SIGKILL) loses its connection and with it the lock, so nothing stays stuck behind a crash.
No transaction is open while the gateway is called.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from medmarket.db import Database
from medmarket.errors import Conflict

_NAMESPACE = 0x7061_7931  # "pay1": keeps these keys apart from other advisory locks


class PaymentBusy(Conflict):
    slug, title = "payment-busy", "This payment is being worked on; try again shortly"


def lock_key(payment_id: uuid.UUID) -> int:
    return int.from_bytes(payment_id.bytes[:4], "big", signed=True)


@asynccontextmanager
async def payment_lock(
    db: Database, payment_id: uuid.UUID, *, wait_seconds: float | None = 15.0
) -> AsyncIterator[asyncpg.Connection]:
    """Hold the payment's lock; yields the connection to do the work on.

    ``wait_seconds=None`` does not wait: raises ``PaymentBusy`` at once (reconciliation
    skips busy payments). After waiting ``wait_seconds`` it raises ``PaymentBusy`` too.
    """
    # A dedicated connection: the session lock must never stay behind on a pooled one.
    async with db.dedicated() as connection:
        key = lock_key(payment_id)
        if wait_seconds is None:
            acquired = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)", _NAMESPACE, key
            )
        else:
            await connection.execute(f"SET lock_timeout = {int(wait_seconds * 1000)}")
            try:
                await connection.execute("SELECT pg_advisory_lock($1, $2)", _NAMESPACE, key)
                acquired = True
            except asyncpg.LockNotAvailableError:
                acquired = False
            finally:
                await connection.execute("RESET lock_timeout")
        if not acquired:
            raise PaymentBusy(headers={"Retry-After": "1"})
        try:
            yield connection
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1, $2)", _NAMESPACE, key)
