"""Connections the platform opens to URLs that people other than the operator typed (a
hospital's FHIR base, a webhook receiver): never into the platform's own networks.

A typed URL must not make the platform probe or reach loopback, private, link-local or
otherwise non-public addresses (its database, the cloud's metadata service, a neighbour's
admin port). ``outbound_client`` builds an httpx client whose every connection resolves the
host itself, refuses the address unless it is public or inside one of the operator's
``MEDMARKET_OUTBOUND_ALLOWED_NETWORKS``, and then connects to exactly the address it checked:
there is no second DNS lookup an attacker's name server could answer differently. The URL's
host name still goes into the ``Host`` header and TLS's SNI and certificate check.

A refused address fails like any other connection failure: ``httpx.ConnectError`` (whose
``__cause__`` is ``OutboundRefused``), before any packet is sent. Callers show people one
message for every such failure and keep the detail for the server log, so a refusal, a
closed port and a timeout look the same from outside.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import anyio
import httpcore
import httpx

from medmarket.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# RFC 6052's well-known prefix: a NAT64 gateway connects to the IPv4 address in the last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefused(httpcore.ConnectError):
    """The platform will not connect to this address (it is not public, and the operator did
    not allow its network). httpx raises it as ``httpx.ConnectError``."""


def _reached(address: IPAddress) -> list[IPAddress]:
    """The addresses a connection to ``address`` ends up at: an IPv4-mapped or NAT64 address
    reaches its IPv4 address; a 6to4 address is routed by the IPv4 address inside it too."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return [address.ipv4_mapped]
        if address in _NAT64:
            return [ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)]
        if address.sixtofour is not None:
            return [address, address.sixtofour]
    return [address]


def _kind(address: IPAddress) -> str | None:
    """What makes ``address`` non-public, or None for a public address."""
    for refused, kind in (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally reachable"),
    ):
        if refused:
            return kind
    return None


@dataclass(frozen=True)
class OutboundPolicy:
    """Which addresses outbound connections may reach: public ones, and those inside
    ``allowed_networks`` (a hospital reached over a VPN, a test server on loopback)."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        # Settings checked each is a CIDR.
        return cls(
            tuple(ipaddress.ip_network(n.strip()) for n in settings.outbound_allowed_networks)
        )

    def refusal(self, address: IPAddress) -> str | None:
        """Why the platform will not connect to ``address``, or None when it may. An
        unspecified or multicast address is never a server, whatever the allow-list says."""
        address = ipaddress.ip_address(str(address).split("%", 1)[0])  # no IPv6 zone
        for reached in _reached(address):
            kind = _kind(reached)
            if kind is None:
                continue
            if kind in ("unspecified", "multicast") or not any(
                reached in network for network in self.allowed_networks
            ):
                return f"{reached} is a {kind} address"
        return None


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves the host, checks every address against the
    policy, and connects to a checked address (with ``inner``, anyio's by default)."""

    def __init__(
        self, policy: OutboundPolicy, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def _addresses(self, host: str, port: int) -> list[str]:
        try:
            found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: cannot be resolved ({exc})") from exc
        addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))
        for address in addresses:
            reason = self.policy.refusal(ipaddress.ip_address(address.split("%", 1)[0]))
            if reason is not None:
                named = host if address == host else f"{host} (resolved to {address})"
                raise OutboundRefused(
                    f"{named}: {reason}, not in MEDMARKET_OUTBOUND_ALLOWED_NETWORKS"
                )
        if not addresses:
            raise httpcore.ConnectError(f"{host}: no address")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # One deadline for the lookup and every address tried, as httpcore's connect timeout.
        try:
            with anyio.fail_after(timeout):
                failure: Exception | None = None
                for address in await self._addresses(host, port):
                    try:
                        return await self.inner.connect_tcp(
                            address,
                            port,
                            local_address=local_address,
                            socket_options=socket_options,
                        )
                    except httpcore.ConnectError as exc:
                        failure = exc
                assert failure is not None
                raise failure
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"{host}: no connection in time") from exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused(f"unix socket {path}: not an outbound destination")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class OutboundTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request conversion, error mapping, TLS settings), its
    connection pool rebuilt on ``GuardedNetworkBackend``. It takes no proxy: a proxy would
    make the connection the check does not see."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        verify: ssl.SSLContext | str | bool = True,
        limits: httpx.Limits | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=verify, limits=limits)
        # httpx does not take a network backend (encode/httpx#3749): replace the pool it
        # built, and refuse to run if httpx no longer builds one where we look.
        built = getattr(self, "_pool", None)
        if type(built) is not httpcore.AsyncConnectionPool:
            raise RuntimeError("httpx.AsyncHTTPTransport no longer keeps its pool in _pool")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy, network_backend),
        )


def outbound_client(
    policy: OutboundPolicy,
    *,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
    **client_options: Any,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for URLs others typed: connections only to addresses the
    policy permits, no proxies from the environment, no redirects unless asked for (each
    redirect's connection is checked again). ``client_options`` go to ``httpx.AsyncClient``
    (``base_url``, ``headers``, ``timeout`` ...); a ``transport`` or ``mounts`` of one's own
    would bypass the check and is refused."""
    for bypass in ("transport", "mounts", "proxy", "trust_env"):
        if bypass in client_options:
            raise TypeError(f"outbound_client: {bypass} would bypass the address check")
    client_options.setdefault("follow_redirects", False)
    return httpx.AsyncClient(
        transport=OutboundTransport(policy, network_backend=network_backend),
        trust_env=False,
        **client_options,
    )
