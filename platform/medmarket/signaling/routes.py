"""The signaling WebSocket: ``/ws/consultations/{consultation_id}/signal``.

The route is public to the access guard because the room token is the credential: it names
the consultation, the person and their role, and is checked before anything else happens.
It travels in the connection's first message, ``{"type": "hello", "token": ..., "last_id":
...}``, sent within ``HELLO_SECONDS`` of opening (``new WebSocket(url, ["medmarket-signal"])``,
then the hello on ``open``), never in the URL or a header, which servers and proxies write
into their logs: a token in the query string (``?token=``) or in a subprotocol is refused
even when genuine, and the server's own log lines do not show a query's token.
A genuine token is not enough: the consultation must not have ended and the person must still
take part in it (``standing``), which is asked of the consultation on every connection.
A refused token, a full room or a removal closes the socket after an ``error`` message with
a close code clients can act on (``messages.CloseCode``: 4401 token, also when the
consultation has ended; 4403 removed; 4409 replaced; 4429 room full; 4400 a first message
that is not a hello, none in time, or a ``last_id`` that is not a stream id; 1013 try again
later).
The server (uvicorn's ``ws_max_size``, set to ``messages.MAX_FRAME_BYTES`` wherever the app
is served) closes a connection whose message is larger than that with 1009 before reading it
whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from typing import Any

import msgspec
from litestar import Router, WebSocket, websocket
from litestar.params import FromPath
from redis.exceptions import RedisError

from medmarket.accounts.guards import PUBLIC
from medmarket.signaling import messages as m
from medmarket.signaling.hub import Connection, JoinRefused, SignalingHub
from medmarket.signaling.standing import RoomAuthority
from medmarket.signaling.tokens import RoomGrant, RoomTokenError, verify_room_token

log = logging.getLogger("medmarket.signaling")

# A participant sends a few dozen messages per call; this only slows floods down.
MESSAGES_PER_SECOND = 50.0
BURST = 200
WRITER_DRAIN_SECONDS = 5.0
_CLOSE_FOR_REFUSAL: dict[m.ErrorCode, m.CloseCode] = {
    "malformed": m.CloseCode.MALFORMED,
    "room-full": m.CloseCode.FULL,
    "removed": m.CloseCode.REMOVED,
}
SUBPROTOCOL = m.SUBPROTOCOL
# A client has this long after opening to say hello: a socket that says nothing is not kept.
HELLO_SECONDS = 10.0
_HELLO = '{"type": "hello", "token": <room token>, "last_id": <optional>}'


# uvicorn logs a WebSocket's path with its query string (``"WebSocket /ws/...?token=..."``).
SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")
_QUERY_TOKEN = re.compile(r"([?&]token=)[^&\s\"]*")


class QueryTokenRedaction(logging.Filter):
    """Blanks a ``token=`` query parameter in server log lines: a client that still sends its
    token in the URL is refused, and its token is not written down either."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _QUERY_TOKEN.sub(r"\1[redacted]", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY_TOKEN.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


REDACTION = QueryTokenRedaction()


def offered_protocols(socket: WebSocket[Any, Any, Any]) -> list[str]:
    header = socket.headers.get("sec-websocket-protocol", "")
    return [part.strip() for part in header.split(",") if part.strip()]


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    async def take(self) -> None:
        """Wait for a token. Waiting instead of refusing slows a flooding client down
        through TCP backpressure without dropping or reordering anything it sent."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            await asyncio.sleep((1 - self.tokens) / self.rate)
            self.tokens, self.stamp = 1.0, time.monotonic()
        self.tokens -= 1


async def _refuse(
    socket: WebSocket[Any, Any, Any], code: m.ErrorCode, text: str, close: int
) -> None:
    with contextlib.suppress(Exception):
        await socket.send_data(m.encoder.encode(m.Error(code=code, message=text)).decode())
        await socket.close(code=close, reason=code)


@websocket("/")
async def signal(socket: WebSocket[Any, Any, Any], consultation_id: FromPath[uuid.UUID]) -> None:
    """Join a consultation's signaling room (see ``medmarket.signaling.messages``)."""
    hub: SignalingHub = socket.app.state.signaling
    protocols = offered_protocols(socket)
    await socket.accept(subprotocols=SUBPROTOCOL if SUBPROTOCOL in protocols else None)
    if "token" in socket.query_params or any(p.startswith("token.") for p in protocols):
        message = (
            f"send the room token in the first message, {_HELLO}, not in the URL or a subprotocol"
        )
        await _refuse(socket, "token-malformed", message, m.CloseCode.TOKEN)
        return
    hello = await _hello(socket)
    if hello is None:
        return
    try:
        grant = verify_room_token(socket.app.state.settings, hello.token, consultation_id)
    except RoomTokenError as exc:
        await _refuse(socket, f"token-{exc.code}", exc.message, m.CloseCode.TOKEN)  # type: ignore[arg-type]
        return
    if not await _still_admitted(socket, grant):
        return
    try:
        connection, _welcome = await hub.join(grant, hello.last_id)
    except JoinRefused as exc:
        await _refuse(socket, exc.code, exc.message, _CLOSE_FOR_REFUSAL[exc.code])
        return
    except (RedisError, OSError):
        await _refuse(
            socket, "unavailable", "signaling is unavailable; retry", m.CloseCode.TRY_LATER
        )
        return
    writer = asyncio.create_task(_write(socket, connection))
    try:
        await _read(socket, hub, connection)
    finally:
        await hub.leave(connection)
        connection.close(m.CloseCode.DONE)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(WRITER_DRAIN_SECONDS):
                await writer
        writer.cancel()


async def _hello(socket: WebSocket[Any, Any, Any]) -> m.Hello | None:
    """The connection's first message, which must be a hello; None (the socket refused, or
    gone) if it is not, or does not come within ``HELLO_SECONDS``."""
    try:
        async with asyncio.timeout(HELLO_SECONDS):
            event = await socket.receive()
    except TimeoutError:
        message = f"say hello within {HELLO_SECONDS:g} seconds of opening: {_HELLO}"
        await _refuse(socket, "malformed", message, m.CloseCode.MALFORMED)
        return None
    if event["type"] == "websocket.disconnect":
        return None
    text = event.get("text")
    first: m.Hello | m.ClientMessage | None = None
    reason = "it is not text"
    if isinstance(text, str) and len(text.encode()) <= m.MAX_MESSAGE_BYTES:
        try:
            first = m.first_decoder.decode(text)
            reason = f"its type is {type(first).__struct_config__.tag!r}"
        except msgspec.DecodeError as exc:
            reason = m.explain(exc)
    elif isinstance(text, str):
        reason = "it is too large"
    if isinstance(first, m.Hello):
        return first
    message = f"the first message must be a hello, {_HELLO}, but {reason}"
    await _refuse(socket, "malformed", message, m.CloseCode.MALFORMED)
    return None


async def _still_admitted(socket: WebSocket[Any, Any, Any], grant: RoomGrant) -> bool:
    """Ask the consultation whether the token's holder may still be in the room; refuse the
    socket (and say False) when not."""
    authority: RoomAuthority = socket.app.state.room_authority
    try:
        standing = await authority.standing(grant)
    except Exception:  # the database did not answer: the client retries
        log.warning("room standing of %s unavailable", grant.consultation_id, exc_info=True)
        await _refuse(
            socket, "unavailable", "signaling is unavailable; retry", m.CloseCode.TRY_LATER
        )
        return False
    if standing.verdict == "ended":
        await _refuse(socket, "ended", "this consultation has ended", m.CloseCode.TOKEN)
    elif standing.verdict == "not-participant":
        # What a removed colleague hears, whoever they are: nothing about the consultation.
        await _refuse(
            socket, "removed", "you do not take part in this consultation", m.CloseCode.REMOVED
        )
    return standing.admitted


async def _write(socket: WebSocket[Any, Any, Any], connection: Connection) -> None:
    """The socket's only writer: frames leave in the order the hub queued them."""
    while True:
        frame = await connection.outgoing.get()
        try:
            if frame is None:
                await socket.close(code=connection.close_code)
                return
            await socket.send_data(frame.decode(), mode="text")
        except Exception:  # the peer went away; the reader side notices and leaves
            connection.closing = True
            return


async def _read(
    socket: WebSocket[Any, Any, Any], hub: SignalingHub, connection: Connection
) -> None:
    limiter = TokenBucket(MESSAGES_PER_SECOND, BURST)
    while not connection.closing:
        event = await socket.receive()
        if event["type"] == "websocket.disconnect":
            return
        text = event.get("text")
        if not isinstance(text, str):
            connection.push(_error("malformed", "send JSON in text frames"))
            continue
        if len(text) > m.MAX_MESSAGE_BYTES or len(text.encode()) > m.MAX_MESSAGE_BYTES:
            connection.push(
                _error("too-large", f"messages may be at most {m.MAX_MESSAGE_BYTES} bytes")
            )
            continue
        try:
            message = m.client_decoder.decode(text)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            connection.push(_error("malformed", m.explain(exc)))
            continue
        await limiter.take()
        try:
            entry_id = await hub.publish(connection, message)
        except (RedisError, OSError):
            connection.push(_error("unavailable", "not relayed; send it again", message.ref))
            continue
        if message.ref is not None:
            connection.push(m.encoder.encode(m.Ack(ref=message.ref, id=entry_id)))


def _error(code: m.ErrorCode, text: str, ref: str | None = None) -> bytes:
    return m.encoder.encode(m.Error(code=code, message=text, ref=ref))


ROUTES = [
    Router(
        path="/ws/consultations/{consultation_id:uuid}/signal",
        # The room token is the credential (see above).
        opt=PUBLIC,
        route_handlers=[signal],
    )
]
