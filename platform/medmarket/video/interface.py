"""What crosses between the core and a video provider plugin (plain WebRTC, a 5G carrier)."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol, runtime_checkable

import msgspec

from medmarket.health import HealthReport


class IceServer(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One entry of RTCConfiguration.iceServers, as the browser and aiortc take it (unset
    fields are left out: a browser would turn a null username into the string "null")."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


class MediaProfile(msgspec.Struct, frozen=True, kw_only=True):
    """What the call should aim for; clients treat these as upper bounds."""

    name: str = "standard"
    max_video_kbps: int = 1500
    max_width: int = 1280
    max_height: int = 720
    max_framerate: int = 30
    audio_kbps: int = 48


STANDARD = MediaProfile()
# For e.g. remote ultrasound: more pixels and bits; carriers map it to a throughput QoS profile.
HIGH_THROUGHPUT = MediaProfile(
    name="high-throughput",
    max_video_kbps=6000,
    max_width=1920,
    max_height=1080,
    max_framerate=30,
    audio_kbps=64,
)


class CallContext(msgspec.Struct, frozen=True, kw_only=True):
    """The consultation and participant a provider is asked about."""

    consultation_id: str
    participant_id: str
    participant_role: Literal["patient", "doctor", "guest"]
    starts_at: dt.datetime
    ends_at: dt.datetime
    # The device as the app saw it: its public IPv4 address with the source port (None when
    # unknown: behind a proxy the port is lost), or its IPv6 address; and, when the
    # consultation knows it, the participant's phone number (E.164; the patient's account
    # holder's, none for doctors). Carriers identify the device for a QoS session by these.
    device_ipv4: str | None = None
    device_public_port: int | None = None
    device_phone_number: str | None = None
    device_ipv6: str | None = None
    wants_high_throughput: bool = False


class QosSession(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: str
    session_id: str
    profile: str
    expires_at: dt.datetime | None = None


@runtime_checkable
class VideoProvider(Protocol):
    id: str
    display_name: str

    async def ice_servers(self, call: CallContext) -> list[IceServer]: ...

    async def media_profile(self, call: CallContext) -> MediaProfile: ...

    async def open_qos_session(self, call: CallContext) -> QosSession | None:
        """Return None when this provider has no network QoS to offer."""
        ...

    async def extend_qos_session(self, session: QosSession, seconds: int) -> QosSession: ...

    async def close_qos_session(self, session: QosSession) -> None: ...

    async def health(self) -> HealthReport: ...


@runtime_checkable
class FindsQosSessions(Protocol):
    """What a provider with QoS may also offer (optional): its network's open QoS sessions
    for a call's device. When ``open_qos_session`` fails or times out, the network may still
    have made the session (a carrier that answered too late); the core then asks, in the
    background, and closes those it has no record of."""

    async def find_qos_sessions(self, call: CallContext) -> list[QosSession]: ...
