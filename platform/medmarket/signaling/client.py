"""A Python signaling client: what the browser's call client does, for robots, tests and the
benchmarks. It says hello with its room token (never in the URL), keeps the last stream id it
saw, resumes from it on reconnect (to any instance), and resends what the server had not
acknowledged, each message once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import OrderedDict
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from medmarket.signaling import messages as m


class SignalingClosed(Exception):
    """The server closed the socket; ``code`` and the last error say why."""

    def __init__(self, code: int | None, error: m.Error | None) -> None:
        super().__init__(f"closed ({code}): {error.message if error else ''}")
        self.code, self.error = code, error


class SignalingClient:
    def __init__(self, consultation_id: uuid.UUID | str, token: str) -> None:
        self.consultation_id = str(consultation_id)
        self.token = token
        self.last_id: str | None = None
        self.welcome: m.Welcome | None = None
        self.inbox: asyncio.Queue[m.ServerMessage] = asyncio.Queue()
        self.unacked: OrderedDict[str, m.ClientMessage] = OrderedDict()
        self.closed_code: int | None = None
        self.last_error: m.Error | None = None
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._acked = asyncio.Condition()

    def url(self, base: str) -> str:
        path = f"/ws/consultations/{self.consultation_id}/signal"
        return base.rstrip("/").replace("http", "ws", 1) + path

    def hello(self) -> m.Hello:
        """The first message: the token, and where to resume (if this client saw anything)."""
        return m.Hello(token=self.token, last_id=self.last_id)

    async def connect(self, base_url: str, *, timeout: float = 30.0) -> m.Welcome:
        """Open the socket, say hello (resuming after ``last_id`` if this client saw
        anything), wait for the welcome, then resend every message not yet acknowledged, in
        order."""
        await self._drop()
        self.closed_code, self.welcome = None, None
        async with asyncio.timeout(timeout):
            self._socket = await connect(
                self.url(base_url), subprotocols=[Subprotocol(m.SUBPROTOCOL)], max_size=2**20
            )
            with contextlib.suppress(ConnectionClosed):  # the server's reason follows
                await self._socket.send(m.encoder.encode(self.hello()).decode())
            first = m.server_decoder.decode(await self._socket.recv())
        if not isinstance(first, m.Welcome):
            socket = self._socket
            with contextlib.suppress(TimeoutError, ConnectionClosed):
                async with asyncio.timeout(timeout):
                    await socket.wait_closed()
            await self._drop()
            self.closed_code = socket.close_code
            error = first if isinstance(first, m.Error) else None
            raise SignalingClosed(socket.close_code, error)
        self.welcome = first
        # Where the server resumed us: our last id, or our join when it could not (a gap).
        self.last_id = first.last_id
        self._reader = asyncio.create_task(self._read(self._socket))
        for message in list(self.unacked.values()):
            await self._socket.send(m.encoder.encode(message).decode())
        return first

    async def send(self, message: m.ClientMessage) -> None:
        """Send (with a ``ref`` so it is acknowledged); kept until acknowledged, and resent
        after a reconnect if the socket dies first."""
        if message.ref is None:
            message = msgspec.structs.replace(message, ref=uuid.uuid4().hex)
        assert message.ref is not None
        self.unacked[message.ref] = message
        if self._socket is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._socket.send(m.encoder.encode(message).decode())

    async def send_raw(self, text: str | bytes) -> None:
        assert self._socket is not None
        await self._socket.send(text)

    async def wait_acked(self, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout), self._acked:
            await self._acked.wait_for(lambda: not self.unacked)

    async def receive(self, timeout: float = 30.0) -> m.ServerMessage:
        async with asyncio.timeout(timeout):
            return await self.inbox.get()

    async def receive_kind(self, kind: type[Any], timeout: float = 30.0) -> Any:
        """The next message of ``kind``; others received meanwhile are dropped."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.inbox.get()
                if isinstance(message, kind):
                    return message

    def kill(self) -> None:
        """Cut the TCP connection without a closing handshake (a phone losing its network)."""
        if self._socket is not None:
            self._socket.transport.abort()

    async def close(self) -> None:
        await self._drop()

    async def _drop(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._socket.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        self._socket, self._reader = None, None

    async def _read(self, socket: ClientConnection) -> None:
        try:
            async for raw in socket:
                message = m.server_decoder.decode(raw)
                if isinstance(message, m.Ack):
                    async with self._acked:
                        self.unacked.pop(message.ref, None)
                        self._acked.notify_all()
                    continue
                if isinstance(message, m.Error):
                    self.last_error = message
                entry_id = getattr(message, "id", None)
                if entry_id and not isinstance(message, m.Ack):
                    self.last_id = entry_id
                await self.inbox.put(message)
        except ConnectionClosed:
            pass
        finally:
            self.closed_code = socket.close_code
