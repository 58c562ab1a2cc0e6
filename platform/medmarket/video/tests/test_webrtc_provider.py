"""The built-in video provider passes the contract every video provider passes."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from medmarket.settings import Settings
from medmarket.testing.contracts import VideoProviderContract
from medmarket.video.interface import CallContext
from medmarket.video.turn import coturn_credential
from medmarket.video.webrtc import WebRtcProvider

TURN_SECRET = "a-coturn-static-auth-secret"


class TestWebRtcProviderContract(VideoProviderContract):
    @pytest.fixture
    def provider(self, settings: Settings) -> WebRtcProvider:
        return WebRtcProvider(
            msgspec.structs.replace(
                settings,
                stun_urls=["stun:turn.example.org:3478"],
                turn_urls=["turn:turn.example.org:3478?transport=udp"],
                turn_secret=TURN_SECRET,
            )
        )

    @pytest.fixture
    def call(self) -> CallContext:
        now = dt.datetime.now(dt.UTC)
        return CallContext(
            consultation_id="c-1",
            participant_id="p-1",
            participant_role="patient",
            starts_at=now,
            ends_at=now + dt.timedelta(minutes=30),
        )

    async def test_turn_credentials_are_the_participants_and_outlive_the_slot(
        self, provider: WebRtcProvider, call: CallContext
    ) -> None:
        turn = next(s for s in await provider.ice_servers(call) if s.urls[0].startswith("turn"))
        assert turn.username is not None and turn.username.endswith(":p-1")
        expires_at = dt.datetime.fromtimestamp(int(turn.username.split(":")[0]), dt.UTC)
        assert turn.credential == coturn_credential(TURN_SECRET, "p-1", expires_at)[1]
        assert expires_at >= call.ends_at  # the credential outlives the slot
