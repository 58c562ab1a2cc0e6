"""The asyncpg pool, built once in the app's lifespan and handed to requests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

Connection = asyncpg.Connection  # re-exported for type hints in domain modules


async def _init_connection(connection: asyncpg.Connection) -> None:
    # jsonb columns in and out as Python objects.
    await connection.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


async def connect_pool(
    dsn: str, *, role: str | None, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """A pool whose sessions run as ``role`` (the application role) when one is given.

    The role is set in the startup packet, so ``RESET ALL`` on release keeps it.
    """
    server_settings = {"application_name": "medmarket", "timezone": "UTC"}
    if role:
        server_settings["role"] = role
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings=server_settings,
        init=_init_connection,
    )


class Database:
    """Thin wrapper so domain code reads as ``async with db.transaction() as conn``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as connection, connection.transaction():
            yield connection

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as connection:
            yield connection

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self.pool.fetch(query, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self.pool.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.pool.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self.pool.execute(query, *args)  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.pool.close()
