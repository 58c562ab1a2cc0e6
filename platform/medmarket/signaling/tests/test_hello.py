"""The room token travels in the connection's first message, the hello, and nowhere else: not
in the URL (which servers and proxies log), not in a subprotocol; a first message that is not
a hello, or none in time, closes the socket; a token sent in a URL is not logged either."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator

import pytest
from litestar import Litestar
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from medmarket.signaling import messages as m
from medmarket.signaling import routes
from medmarket.signaling.client import SignalingClient, SignalingClosed
from medmarket.signaling.tokens import mint_room_token, slot_window
from medmarket.tests.support.payments import serving
from medmarket.tests.support.video_fixtures import InstancePair

pytestmark = pytest.mark.slow


def pid() -> str:
    return uuid.uuid4().hex[:12]


async def refusal(socket: ClientConnection) -> tuple[m.Error, int | None]:
    """The error the server sends before closing, and the close code."""
    async with asyncio.timeout(15):
        error = m.server_decoder.decode(await socket.recv())
        with pytest.raises(ConnectionClosed):
            await socket.recv()
    assert isinstance(error, m.Error), error
    return error, socket.close_code


async def test_the_token_travels_in_the_hello_not_the_handshake(
    instance_pair: InstancePair,
) -> None:
    consultation = uuid.uuid4()
    client = SignalingClient(consultation, instance_pair.token(consultation, pid()))
    assert "?" not in client.url(instance_pair.urls[0])
    welcome = await client.connect(instance_pair.urls[0])
    assert welcome.consultation_id == str(consultation)
    assert client._socket is not None
    # Browsers fail a connection whose server does not confirm a subprotocol they offered.
    assert client._socket.subprotocol == m.SUBPROTOCOL
    handshake = client._socket.request
    assert handshake is not None
    assert client.token not in handshake.path
    assert all(client.token not in value for value in handshake.headers.values())
    await client.close()


async def test_a_genuine_token_in_the_url_is_refused(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    client = SignalingClient(consultation, instance_pair.token(consultation, pid()))
    url = client.url(instance_pair.urls[0]) + "?token=" + client.token
    async with connect(url, subprotocols=[Subprotocol(m.SUBPROTOCOL)]) as socket:
        with contextlib.suppress(ConnectionClosed):  # even with a hello (if it gets there)
            await socket.send(m.encoder.encode(client.hello()).decode())
        error, code = await refusal(socket)
    assert (code, error.code) == (4401, "token-malformed")
    assert "first message" in error.message


async def test_a_genuine_token_in_a_subprotocol_is_refused(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    client = SignalingClient(consultation, instance_pair.token(consultation, pid()))
    offered = [Subprotocol(m.SUBPROTOCOL), Subprotocol("token." + client.token)]
    async with connect(client.url(instance_pair.urls[0]), subprotocols=offered) as socket:
        with contextlib.suppress(ConnectionClosed):
            await socket.send(m.encoder.encode(client.hello()).decode())
        error, code = await refusal(socket)
    assert (code, error.code) == (4401, "token-malformed")


@pytest.mark.parametrize(
    "first",
    [
        '{"type": "offer", "sdp": "v=0"}',  # straight to business
        '{"token": "TOKEN"}',  # no type
        '{"type": "hello"}',  # no token
        '{"type": "hello", "token": 12}',
        '{"type": "hello", "token": "TOKEN", "room": "other"}',
        "hello TOKEN",
        b'{"type": "hello", "token": "TOKEN"}',  # binary frame
        '{"type": "hello", "token": "TOKEN", "last_id": "' + "1" * 70_000 + '"}',
    ],
)
async def test_a_first_message_that_is_not_a_hello_is_refused(
    instance_pair: InstancePair, first: str | bytes
) -> None:
    consultation = uuid.uuid4()
    client = SignalingClient(consultation, instance_pair.token(consultation, pid()))
    frame = first.replace("TOKEN", client.token) if isinstance(first, str) else first
    if isinstance(frame, bytes):
        frame = frame.replace(b"TOKEN", client.token.encode())
    async with connect(client.url(instance_pair.urls[0])) as socket:
        await socket.send(frame)
        error, code = await refusal(socket)
    assert (code, error.code) == (4400, "malformed")
    assert "hello" in error.message


@pytest.mark.parametrize("last_id", ["", "99999999999999999999-1", "1-0 ", "latest", "-1-0"])
async def test_a_hello_resuming_from_what_is_not_a_stream_id_is_refused(
    instance_pair: InstancePair, last_id: str
) -> None:
    consultation = uuid.uuid4()
    client = SignalingClient(consultation, instance_pair.token(consultation, pid()))
    client.last_id = last_id
    with pytest.raises(SignalingClosed) as caught:
        await client.connect(instance_pair.urls[0])
    assert caught.value.code == 4400
    assert caught.value.error is not None and caught.value.error.code == "malformed"
    assert "last_id" in caught.value.error.message


async def test_a_second_hello_is_a_malformed_message_and_the_socket_stays(
    instance_pair: InstancePair,
) -> None:
    consultation = uuid.uuid4()
    client = SignalingClient(consultation, instance_pair.token(consultation, pid()))
    await client.connect(instance_pair.urls[0])
    await client.send_raw(m.encoder.encode(client.hello()).decode())
    assert (await client.receive_kind(m.Error)).code == "malformed"
    assert client.closed_code is None
    await client.close()


def room_token(app: Litestar, consultation: uuid.UUID) -> str:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    not_before, expires_at = slot_window(now, now + dt.timedelta(minutes=30))
    return mint_room_token(
        app.state.settings, consultation, pid(), "patient", not_before, expires_at
    )


async def test_a_socket_that_never_says_hello_is_closed(
    app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "HELLO_SECONDS", 0.3)
    consultation = uuid.uuid4()
    async with serving(app) as url:
        silent = SignalingClient(consultation, room_token(app, consultation))
        async with connect(silent.url(url)) as socket:
            error, code = await refusal(socket)
    assert (code, error.code) == (4400, "malformed")
    assert "hello within 0.3 seconds" in error.message


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def server_log() -> Iterator[Lines]:
    """What uvicorn logs (at INFO, as ``medmarket serve`` runs it) about requests. Entered
    once the server runs: starting one configures uvicorn's loggers afresh."""
    lines = Lines()
    loggers = [logging.getLogger(name) for name in routes.SERVER_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(lines)
        logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(lines)
            logger.setLevel(level)


async def test_a_token_sent_in_the_url_is_not_logged(app: Litestar) -> None:
    consultation = uuid.uuid4()
    token = room_token(app, consultation)
    async with serving(app) as url:
        leaky = SignalingClient(consultation, token).url(url) + f"?last_id=1-0&token={token}&x=1"
        with server_log() as server:
            async with connect(leaky) as socket:
                error, code = await refusal(socket)
    assert (code, error.code) == (4401, "token-malformed")
    logged = [line for line in server.lines if "/signal" in line]
    assert logged, server.lines  # the request was logged ...
    assert all(token not in line for line in server.lines)  # ... without the token
    assert any("?last_id=1-0&token=[redacted]&x=1" in line for line in logged), logged
