"""What crosses between the core and a video provider plugin (plain WebRTC, a 5G carrier)."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol, runtime_checkable

import msgspec

from medmarket.health import HealthReport


class IceServer(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of RTCConfiguration.iceServers, as the browser and aiortc take it."""

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


class CallContext(msgspec.Struct, frozen=True, kw_only=True):
    """The consultation and participant a provider is asked about."""

    consultation_id: str
    participant_id: str
    participant_role: Literal["patient", "doctor", "guest"]
    starts_at: dt.datetime
    ends_at: dt.datetime
    # The device's public address as the app saw it; carriers need it for QoS sessions.
    device_ipv4: str | None = None
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
