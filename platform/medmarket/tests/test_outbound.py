"""Outbound connections to typed URLs reach public addresses and the operator's allowed
networks only; a refused address is never connected to, and looks like any failed
connection."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx
import pytest

from medmarket import OutboundPolicy, OutboundRefused, outbound_client
from medmarket.settings import load_settings
from medmarket.testing.http_recorder import HttpRecorder, Reply

LOOPBACK = OutboundPolicy((ipaddress.ip_network("127.0.0.1/32"),))
ENVIRONMENT = {
    "DATABASE_URL": "postgresql://localhost/x",
    "REDIS_URL": "redis://localhost:6379/0",
    "MEDMARKET_SECRET_KEY": "k" * 40,
}


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "fe80::1%eth0",
        "fc00::1",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 (an address refused, not bound)
        "::",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
        "255.255.255.255",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",  # NAT64 to 127.0.0.1
        "2002:7f00:1::1",  # 6to4 through 127.0.0.1
        "2001::1",  # Teredo
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert OutboundPolicy().refusal(ipaddress.ip_address(address.split("%")[0])) is not None


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert OutboundPolicy().refusal(ipaddress.ip_address(address)) is None


def test_the_allow_list_lets_its_networks_through_and_nothing_else() -> None:
    vpn = OutboundPolicy(
        (ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("224.0.0.0/4"))
    )
    assert vpn.refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert vpn.refusal(ipaddress.ip_address("::ffff:10.20.3.4")) is None
    assert vpn.refusal(ipaddress.ip_address("10.21.0.1")) is not None
    assert vpn.refusal(ipaddress.ip_address("127.0.0.1")) is not None
    # Never a server, allowed or not.
    assert vpn.refusal(ipaddress.ip_address("224.0.0.1")) is not None


@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_every_environment_refuses_loopback_unless_allowed(environment: str) -> None:
    plain = load_settings({**ENVIRONMENT, "MEDMARKET_ENVIRONMENT": environment})
    assert OutboundPolicy.from_settings(plain).refusal(ipaddress.ip_address("127.0.0.1"))
    allowing = load_settings(
        {
            **ENVIRONMENT,
            "MEDMARKET_ENVIRONMENT": environment,
            "MEDMARKET_OUTBOUND_ALLOWED_NETWORKS": "10.0.0.0/8, 127.0.0.1/32",
        }
    )
    policy = OutboundPolicy.from_settings(allowing)
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("10.9.8.7")) is None


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that accepts connections (into its backlog) and tells whether any
    arrived."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def connections_arrived(sock: socket.socket) -> bool:
    try:
        connection, _ = sock.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_a_refused_address_is_never_connected_to(listener: socket.socket, host: str) -> None:
    port = listener.getsockname()[1]
    async with outbound_client(OutboundPolicy(), timeout=2) as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(f"http://{host}:{port}/fhir/metadata")
    assert isinstance(caught.value.__cause__, OutboundRefused)
    assert not connections_arrived(listener)


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """anyio's backend, noting the host each connection is opened to and the name TLS is
    started for."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connected: list[str] = []
        self.tls_names: list[str | None] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        stream = await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        backend = self

        class Noting(httpcore.AsyncNetworkStream):
            async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
                return await stream.read(max_bytes, timeout)

            async def write(self, buffer: bytes, timeout: float | None = None) -> None:
                await stream.write(buffer, timeout)

            async def aclose(self) -> None:
                await stream.aclose()

            async def start_tls(
                self, ssl_context: Any, server_hostname: str | None = None, timeout: Any = None
            ) -> httpcore.AsyncNetworkStream:
                backend.tls_names.append(server_hostname)
                return await stream.start_tls(ssl_context, server_hostname, timeout)

            def get_extra_info(self, info: str) -> Any:
                return stream.get_extra_info(info)

        return Noting()

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def test_an_allowed_host_is_reached_at_the_address_that_was_checked() -> None:
    backend = RecordingBackend()
    with HttpRecorder().serving() as server:
        port = server.url.rsplit(":", 1)[1]
        policy = OutboundPolicy(
            (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))
        )
        async with outbound_client(policy, network_backend=backend, timeout=2) as http:
            response = await http.get(f"http://localhost:{port}/hook")
            with pytest.raises(httpx.ConnectError):  # the test server speaks no TLS
                await http.get(f"https://localhost:{port}/hook")
    assert response.status_code == 200
    # No second lookup: the connection went to the address checked, the name stayed in
    # the Host header and in TLS's server name.
    assert backend.connected[0] in ("127.0.0.1", "::1")
    assert server.requests[0].headers["host"] == f"localhost:{port}"
    assert backend.tls_names == ["localhost"]


async def test_a_redirect_into_a_refused_network_is_refused() -> None:
    redirect = Reply(status=302, headers={"location": "http://169.254.169.254/latest/meta-data"})
    with HttpRecorder(lambda request: redirect).serving() as server:
        async with outbound_client(LOOPBACK, follow_redirects=True, timeout=2) as http:
            with pytest.raises(httpx.ConnectError) as caught:
                await http.get(server.url + "/hook")
    assert isinstance(caught.value.__cause__, OutboundRefused)
    assert len(server.requests) == 1


async def test_a_name_that_does_not_resolve_is_a_connection_failure() -> None:
    async with outbound_client(OutboundPolicy(), timeout=2) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("http://no-such-host.invalid/fhir")


def test_a_transport_of_ones_own_cannot_bypass_the_check() -> None:
    with pytest.raises(TypeError, match="transport"):
        outbound_client(OutboundPolicy(), transport=httpx.AsyncHTTPTransport())
