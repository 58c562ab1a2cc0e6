"""The ``carrier-5g`` video provider: edge TURN servers and QoD sessions.

A session is asked for as long as the booked slot still runs (plus a margin), capped; the
core's sweeper extends it while the call runs long and closes it when the participant has
left. A device the carrier cannot identify simply gets no QoS, as does a session the network
reports UNAVAILABLE (deleted at once, so its resources are released).

The device is named by every identifier the core knows (the carrier picks one): the phone
number, the IPv6 address, and the public IPv4 address with its port. CAMARA's
``DeviceIpv4Address`` needs the port (or the private address, which a server never sees)
beside the public address, so an IPv4 address whose port is unknown (the client came through
a proxy) is left out rather than sent alone."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re

from medmarket import (
    HIGH_THROUGHPUT,
    STANDARD,
    CallContext,
    HealthReport,
    IceServer,
    MediaProfile,
    QosSession,
    coturn_credential,
)
from medmarket_video_5g.config import QOD_VERSIONS, CarrierConfig
from medmarket_video_5g.qod import (
    ApplicationServer,
    CreateSession,
    Device,
    DeviceIpv4Address,
    QodClient,
    SessionInfo,
)

PROVIDER_ID = "carrier-5g"
# CAMARA's PhoneNumber: E.164 with the leading "+".
CAMARA_PHONE_NUMBER = re.compile(r"^\+[1-9][0-9]{4,14}$")
SESSION_MARGIN = dt.timedelta(minutes=5)
TURN_CREDENTIAL_MARGIN = dt.timedelta(hours=1)


class FiveGProvider:
    id = PROVIDER_ID
    display_name = "5G carrier (CAMARA Quality-On-Demand)"

    def __init__(self, config: CarrierConfig, *, timeout: float) -> None:
        self.config = config
        self.qod = QodClient(config, timeout=timeout)

    async def ice_servers(self, call: CallContext) -> list[IceServer]:
        if not self.config.turn_urls or not self.config.turn_secret:
            return []
        expires_at = max(dt.datetime.now(dt.UTC), call.ends_at) + TURN_CREDENTIAL_MARGIN
        username, password = coturn_credential(
            self.config.turn_secret, call.participant_id, expires_at
        )
        return [
            IceServer(urls=tuple(self.config.turn_urls), username=username, credential=password)
        ]

    async def media_profile(self, call: CallContext) -> MediaProfile:
        return HIGH_THROUGHPUT if call.wants_high_throughput else STANDARD

    def _device(self, call: CallContext) -> Device | None:
        phone = call.device_phone_number
        if phone is not None and not CAMARA_PHONE_NUMBER.match(phone):
            phone = None
        ipv4, ipv6 = None, None
        for text in (call.device_ipv4, call.device_ipv6):
            address = _address(text)
            if isinstance(address, ipaddress.IPv6Address):
                ipv6 = str(address)
            elif address is not None and call.device_public_port:
                ipv4 = DeviceIpv4Address(
                    public_address=str(address), public_port=call.device_public_port
                )
        if phone is None and ipv4 is None and ipv6 is None:
            return None
        return Device(phone_number=phone, ipv4_address=ipv4, ipv6_address=ipv6)

    async def open_qos_session(self, call: CallContext) -> QosSession | None:
        device = self._device(call)
        if device is None:
            return None
        wanted = call.ends_at - dt.datetime.now(dt.UTC) + SESSION_MARGIN
        duration = int(min(max(wanted.total_seconds(), 60), self.config.max_session_seconds))
        profile = (
            self.config.high_throughput_profile
            if call.wants_high_throughput
            else self.config.qos_profile
        )
        server = self.config.application_server_addresses
        info = await self.qod.create_session(
            CreateSession(
                device=device,
                application_server=ApplicationServer(
                    ipv4_address=server.ipv4, ipv6_address=server.ipv6
                ),
                qos_profile=profile,
                duration=duration,
            )
        )
        if info.qos_status == "UNAVAILABLE":
            await self.qod.delete_session(info.session_id)
            return None
        return self._session(info)

    async def find_qos_sessions(self, call: CallContext) -> list[QosSession]:
        """The sessions the carrier holds for the call's device (the core closes those it has
        no record of: made by a create whose answer never reached us)."""
        device = self._device(call)
        if device is None:
            return []
        return [self._session(info) for info in await self.qod.retrieve_sessions(device)]

    async def extend_qos_session(self, session: QosSession, seconds: int) -> QosSession:
        return self._session(await self.qod.extend_session(session.session_id, seconds))

    async def close_qos_session(self, session: QosSession) -> None:
        await self.qod.delete_session(session.session_id)

    def _session(self, info: SessionInfo) -> QosSession:
        expires_at = info.expires_at
        if expires_at is None:  # REQUESTED: the network has not started the clock yet
            expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=info.duration)
        return QosSession(
            provider_id=self.id,
            session_id=info.session_id,
            profile=info.qos_profile,
            expires_at=expires_at,
        )

    async def health(self) -> HealthReport:
        version = QOD_VERSIONS[self.config.qod_version]
        return HealthReport(healthy=True, detail=f"Quality-On-Demand {version} at {self.qod.base}")


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``text`` as an address (an IPv4-mapped IPv6 address as the IPv4 one), or None."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
