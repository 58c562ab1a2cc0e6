"""Putting messages in the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from medmarket.db import Connection


async def enqueue(
    connection: Connection,
    topic: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    delay_seconds: float = 0,
) -> int | None:
    """Add a message; returns its id, or None when ``dedupe_key`` was already enqueued."""
    return await connection.fetchval(  # type: ignore[no-any-return]
        """
        INSERT INTO outbox (topic, payload, dedupe_key, available_at)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4))
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id
        """,
        topic,
        payload,
        dedupe_key,
        float(delay_seconds),
    )
