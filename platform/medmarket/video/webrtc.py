"""The built-in video provider ``"webrtc"``: plain WebRTC with the platform's own STUN/TURN
servers (coturn, see ``infra/coturn/``). It offers no network QoS.

Registered through the ``medmarket`` entry-point group like any plugin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from medmarket import hookimpl
from medmarket.health import HealthReport
from medmarket.settings import Settings
from medmarket.video.interface import (
    HIGH_THROUGHPUT,
    STANDARD,
    CallContext,
    IceServer,
    MediaProfile,
    QosSession,
    VideoProvider,
)
from medmarket.video.turn import coturn_credential

PROVIDER_ID = "webrtc"


class WebRtcProvider:
    id = PROVIDER_ID
    display_name = "WebRTC (coturn)"

    def __init__(self, settings: Settings) -> None:
        self.stun_urls = tuple(settings.stun_urls)
        self.turn_urls = tuple(settings.turn_urls)
        self.turn_secret = settings.turn_secret
        self.ttl = dt.timedelta(seconds=settings.turn_credential_ttl_seconds)

    async def ice_servers(self, call: CallContext) -> list[IceServer]:
        servers = []
        if self.stun_urls:
            servers.append(IceServer(urls=self.stun_urls))
        if self.turn_urls and self.turn_secret:
            # coturn checks the expiry on every refresh of an allocation, so the credential
            # must outlive the booked slot, not just the moment the call starts.
            now = dt.datetime.now(dt.UTC)
            expires_at = max(now, call.ends_at) + self.ttl
            username, password = coturn_credential(
                self.turn_secret, call.participant_id, expires_at
            )
            servers.append(IceServer(urls=self.turn_urls, username=username, credential=password))
        return servers

    async def media_profile(self, call: CallContext) -> MediaProfile:
        return HIGH_THROUGHPUT if call.wants_high_throughput else STANDARD

    async def open_qos_session(self, call: CallContext) -> QosSession | None:
        return None

    async def extend_qos_session(self, session: QosSession, seconds: int) -> QosSession:
        return session

    async def close_qos_session(self, session: QosSession) -> None:
        return None

    async def health(self) -> HealthReport:
        if self.turn_urls and self.turn_secret:
            return HealthReport(healthy=True, detail=f"{len(self.turn_urls)} TURN URL(s)")
        return HealthReport(
            healthy=True, detail="no TURN server configured: calls behind strict NATs fail"
        )


@hookimpl
def medmarket_video_providers(settings: Settings) -> Sequence[VideoProvider]:
    return [WebRtcProvider(settings)]
