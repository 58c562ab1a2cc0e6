"""The asyncpg pool, built once in the app's lifespan and handed to requests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple, Protocol, TypeAlias, TypedDict

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What domain code works with: a connection of its own (``Database.dedicated``) or one the
# pool lends (``Database.transaction``), a proxy with every method of a Connection.
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy


class _FetchesRows(Protocol):
    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None: ...


async def fetch_one(source: _FetchesRows, query: str, *args: Any) -> asyncpg.Record:
    """The row of a query that always has one: ``INSERT ... RETURNING``, ``UPDATE ...
    RETURNING`` of a row the transaction holds, a row read back by its key after writing it or
    through a foreign key. No row there is a bug, not an answer, so it raises instead of
    handing back None."""
    row = await source.fetchrow(query, *args)
    if row is None:
        raise RuntimeError(f"expected a row from: {' '.join(query.split())[:120]}")
    return row


async def _init_connection(connection: asyncpg.Connection) -> None:
    # jsonb columns in and out as Python objects.
    await connection.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


def _server_settings(role: str | None) -> dict[str, str]:
    # The role is set in the startup packet: the session works as the application role
    # from its first statement, and RESET ALL would keep it.
    settings = {"application_name": "medmarket", "timezone": "UTC"}
    if role:
        settings["role"] = role
    return settings


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """Pooled connections carry no session state: session-level locks and settings live only
    on dedicated connections (``Database.dedicated``). asyncpg still rolls back a transaction
    a cancelled request left open; this spares every release the default reset's extra round
    trip (``RESET ALL; UNLISTEN *; ...``), a fifth of a booking request's time under load."""


class Credentials(TypedDict, total=False):
    """The login keywords asyncpg takes; none when the DSN's own user logs in."""

    user: str
    password: str


class Login(NamedTuple):
    """Who the application logs in as, when not as the DSN's own user."""

    user: str
    password: str = ""

    def parameters(self) -> Credentials:
        return {"user": self.user, "password": self.password} if self.user else {}


async def connect_pool(
    dsn: str,
    *,
    role: str | None,
    login: Login | None = None,
    min_size: int = 1,
    max_size: int = 10,
) -> asyncpg.Pool:
    """A pool whose sessions log in as ``login`` (else the DSN's user) and run as ``role``
    (the application role) when one is given."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings=_server_settings(role),
        init=_init_connection,
        reset=_nothing_to_reset,
        **(login.parameters() if login else {}),
    )


class Database:
    """Thin wrapper so domain code reads as ``async with db.transaction() as conn``."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        dsn: str | None = None,
        role: str | None = None,
        login: Login | None = None,
    ) -> None:
        self.pool = pool
        self._dsn = dsn
        self._role = role
        self._login = login

    @asynccontextmanager
    async def dedicated(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of its own, closed afterwards, for session-level state (an advisory
        lock held across a slow call) that must never reach a pooled connection. If the
        process dies, the lock dies with the connection."""
        if self._dsn is None:
            raise RuntimeError("this Database was made without a DSN for dedicated connections")
        connection = await asyncpg.connect(
            self._dsn,
            server_settings=_server_settings(self._role),
            **(self._login.parameters() if self._login else {}),
        )
        try:
            await _init_connection(connection)
            yield connection
        finally:
            await connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.pool.acquire() as connection, connection.transaction():
            yield connection

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        async with self.pool.acquire() as connection:
            yield connection

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self.pool.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self.pool.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.pool.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self.pool.execute(query, *args)

    async def close(self) -> None:
        await self.pool.close()
