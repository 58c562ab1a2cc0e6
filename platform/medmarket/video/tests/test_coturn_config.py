"""The coturn configurations in infra/coturn: the production one refuses to relay to private,
loopback and link-local peers (a TURN server must never become a way into our networks); the
test one allows loopback, which is what lets the relay-only call test run on one machine.
Checked by asking a real coturn for permissions (no packet is sent to any peer)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aioice.stun import TransactionFailed
from aioice.turn import TurnClientUdpProtocol

from medmarket.tests.support.coturn import PRODUCTION_CONFIG, TEST_CONFIG, Coturn, running_coturn
from medmarket.video.turn import coturn_credential

pytestmark = pytest.mark.slow
CHANNEL = 0x4000


@asynccontextmanager
async def allocation(server: Coturn) -> AsyncIterator[TurnClientUdpProtocol]:
    username, password = coturn_credential(
        server.secret, "probe", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    )
    loop = asyncio.get_running_loop()
    address = ("127.0.0.1", server.port)
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: TurnClientUdpProtocol(
            address, username=username, password=password, lifetime=600, channel_refresh_time=500
        ),
        remote_addr=address,
    )
    try:
        async with asyncio.timeout(30):
            await protocol.connect()
        yield protocol
    finally:
        transport.close()


async def permitted(protocol: TurnClientUdpProtocol, peer: str, channel: int) -> bool:
    """True if coturn grants a permission for ``peer``; False if it answers 403 Forbidden."""
    try:
        async with asyncio.timeout(30):
            await protocol.channel_bind(channel, (peer, 9))
    except TransactionFailed as failure:
        return bool(failure.response.attributes["ERROR-CODE"][0] != 403)
    return True


DENIED_IN_PRODUCTION = [
    "127.0.0.1",  # this host
    "10.1.2.3",
    "172.16.5.4",
    "192.168.1.10",  # private networks
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # noqa: S104 - a peer address we must refuse, not a bind
]


async def test_production_config_refuses_private_and_loopback_peers() -> None:
    with running_coturn(PRODUCTION_CONFIG) as server:
        async with allocation(server) as protocol:
            for offset, peer in enumerate(DENIED_IN_PRODUCTION):
                assert not await permitted(protocol, peer, CHANNEL + offset), peer


async def test_test_config_allows_loopback_only() -> None:
    with running_coturn(TEST_CONFIG) as server:
        async with allocation(server) as protocol:
            assert await permitted(protocol, "127.0.0.1", CHANNEL)
            assert not await permitted(protocol, "10.1.2.3", CHANNEL + 1)
            assert not await permitted(protocol, "192.168.1.10", CHANNEL + 2)


async def test_credentials_past_their_expiry_are_refused(coturn: Coturn) -> None:
    username, password = coturn_credential(
        coturn.secret, "late", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    )
    loop = asyncio.get_running_loop()
    address = ("127.0.0.1", coturn.port)
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: TurnClientUdpProtocol(
            address, username=username, password=password, lifetime=600, channel_refresh_time=500
        ),
        remote_addr=address,
    )
    try:
        with pytest.raises(TransactionFailed):
            async with asyncio.timeout(30):
                await protocol.connect()
    finally:
        transport.close()
