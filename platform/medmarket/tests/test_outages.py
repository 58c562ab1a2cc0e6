"""A dependency outage on any route is a 503 problem with Retry-After, through the app's
exception handlers (errors.py), never a 500: PostgreSQL cut off mid-flight, then back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import redis.exceptions
from litestar import Litestar, get

from medmarket.accounts.guards import PUBLIC, access_guard
from medmarket.app import create_app
from medmarket.errors import DEPENDENCY_OUTAGES, EXCEPTION_HANDLERS, PROBLEM_JSON
from medmarket.tests.support.fixtures import (
    asgi_transport,
    client_for,
    make_settings,
    running,
    sign_up_and_in,
)


class Cable:
    """A TCP forwarder in front of PostgreSQL that can be cut (every connection dropped,
    new ones refused) and mended on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def mend(self) -> None:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.fixture
async def cable(database_url: str) -> AsyncIterator[tuple[Cable, str]]:
    parts = urlsplit(database_url)
    assert parts.hostname and parts.port, "the test database is reached over TCP"
    line = Cable(parts.hostname, parts.port)
    await line.mend()
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{line.port}"
    through = urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))
    try:
        yield line, through
    finally:
        with contextlib.suppress(Exception):
            await line.cut()


async def test_postgresql_going_away_is_a_503_and_coming_back_heals(
    cable: tuple[Cable, str],
) -> None:
    line, database_url = cable
    settings = make_settings(database_url, database_pool_min=1, database_pool_max=2)
    async with running(create_app(settings)) as app, client_for(app) as http:
        account = await sign_up_and_in(http)
        assert (await http.get("/api/me", headers=account.headers)).status_code == 200
        await line.cut()
        for path in ("/api/me", "/api/consultations", "/readyz"):
            down = await http.get(path, headers=account.headers)
            assert down.status_code == 503, (path, down.text)
            assert down.headers["content-type"].startswith(PROBLEM_JSON)
            assert int(down.headers["retry-after"]) > 0
            assert "Traceback" not in down.text
        signed_up = await http.post(
            "/api/accounts",
            json={"email": "cut@example.org", "password": account.password, "display_name": "A"},
        )
        assert signed_up.status_code == 503
        await line.mend()
        assert (await http.get("/api/me", headers=account.headers)).status_code == 200


@pytest.mark.parametrize(
    "outage",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379"),
        redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=lambda exc: type(exc).__name__,
)
async def test_every_kind_of_outage_is_a_503_problem(outage: Exception) -> None:
    assert isinstance(outage, DEPENDENCY_OUTAGES)

    @get("/depends", opt=PUBLIC)
    async def depends() -> str:
        raise outage

    bare = Litestar([depends], guards=[access_guard], exception_handlers=EXCEPTION_HANDLERS)
    async with httpx.AsyncClient(transport=asgi_transport(bare), base_url="http://t") as http:
        response = await http.get("/depends")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"] == "/problems/service-unavailable"
    assert str(outage) not in response.text  # what failed inside stays in the log
