"""The 5G provider installed in the platform: a consultation whose room token names
``carrier-5g`` gets the carrier's edge TURN servers and a QoD session, released at teardown;
when the carrier fails or hangs, the call still goes ahead, without QoS."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from video_5g_tests.carrier import STATIC_TOKEN, FakeCarrier

from medmarket.app import create_app
from medmarket.consults.tests.helpers import booked_visit, ok
from medmarket.plugin_manager import PluginHost
from medmarket.tests.support.fixtures import asgi_transport, client_for, make_settings, running
from medmarket.tests.support.payments import stripe_settings


@pytest.fixture
async def app_with_carrier(
    request: pytest.FixtureRequest,
    database_url: str,
    localstripe_url: str,
    tmp_path: Path,
    fake_carrier: FakeCarrier,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Litestar]:
    """The platform with the carrier installed, holding a static access token, or (with the
    parameter "client-credentials") fetching its tokens."""
    monkeypatch.setenv("MEDMARKET_5G_QOD_URL", fake_carrier.api_root)
    monkeypatch.setenv("MEDMARKET_5G_QOD_VERSION", fake_carrier.version)
    if getattr(request, "param", None) == "client-credentials":
        monkeypatch.setenv("MEDMARKET_5G_TOKEN_URL", fake_carrier.token_url)
        monkeypatch.setenv("MEDMARKET_5G_CLIENT_ID", "medmarket")
        monkeypatch.setenv("MEDMARKET_5G_CLIENT_SECRET", "s3cret")
    else:
        monkeypatch.setenv("MEDMARKET_5G_ACCESS_TOKEN", STATIC_TOKEN)
    monkeypatch.setenv("MEDMARKET_5G_APPLICATION_SERVER", "198.51.100.10")
    monkeypatch.setenv("MEDMARKET_5G_TURN_URLS", "turn:edge1.carrier.example:3478")
    monkeypatch.setenv("MEDMARKET_5G_TURN_SECRET", "edge-turn-secret-123456")
    settings = make_settings(
        database_url,
        plugin_timeout_seconds=1.5,
        data_dir=str(tmp_path),
        **stripe_settings(localstripe_url),
    )
    async with running(create_app(settings)) as app:
        assert "carrier-5g" in app.state.services.plugins.video_providers.adapters
        yield app


async def post(app: Litestar, consultation: uuid.UUID, action: str, token: str) -> dict[str, Any]:
    async with client_for(app) as http:
        response = await http.post(
            f"/api/consultations/{consultation}/video/{action}", json={"token": token}
        )
    assert response.status_code in (200, 204), response.text
    answer: dict[str, Any] = response.json() if response.status_code == 200 else {}
    return answer


async def ultrasound_in_progress(app: Litestar) -> tuple[uuid.UUID, str]:
    """A remote ultrasound on the carrier whose patient the doctor admitted: (consultation,
    the patient's room token)."""
    visit = await booked_visit(app)
    await ok(
        app,
        "PUT",
        visit.path + "/video",
        visit.doctor,
        {"provider": "carrier-5g", "high_throughput": True},
    )
    room = (await ok(app, "POST", visit.path + "/enter", visit.patient))["room"]
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    return uuid.UUID(visit.consultation_id), room["token"]


async def test_a_5g_consultation_gets_edge_turn_and_qos_released_at_the_end(
    app_with_carrier: Litestar, fake_carrier: FakeCarrier
) -> None:
    consultation, the_token = await ultrasound_in_progress(app_with_carrier)
    body = await post(app_with_carrier, consultation, "setup", the_token)
    assert body["provider"] == "carrier-5g" and body["degraded"] == []
    assert body["ice_servers"][0]["urls"] == ["turn:edge1.carrier.example:3478"]
    assert body["media_profile"]["name"] == "high-throughput"
    assert body["qos"]["profile"] == "QOS_L"
    assert set(fake_carrier.sessions) == {body["qos"]["session_id"]}
    await post(app_with_carrier, consultation, "teardown", the_token)
    assert fake_carrier.sessions == {}


@pytest.mark.parametrize("mode", ["refuse", "slow"])
async def test_when_the_carrier_fails_the_call_goes_ahead_without_qos(
    app_with_carrier: Litestar, fake_carrier: FakeCarrier, mode: str
) -> None:
    consultation, the_token = await ultrasound_in_progress(app_with_carrier)
    fake_carrier.mode, fake_carrier.slow_seconds = mode, 4.0
    started = time.monotonic()
    body = await post(app_with_carrier, consultation, "setup", the_token)
    assert body["qos"] is None and body["degraded"] == ["qos"]
    assert body["ice_servers"][0]["urls"] == ["turn:edge1.carrier.example:3478"]
    if mode == "slow":  # the plugin timeout, not the carrier, decides how long we wait
        assert time.monotonic() - started < 4.0
        # The carrier made the session before its late answer: the core finds it by the
        # device (POST /retrieve-sessions) and deletes it, in the background.
        closed = await orphans_closed(app_with_carrier, consultation)
        assert fake_carrier.sessions == {}
        assert len(closed) == 1
        paths = [r.path.removeprefix(fake_carrier.base_path) for r in fake_carrier.qod_requests()]
        assert paths == ["/sessions", "/retrieve-sessions", f"/sessions/{closed[0]}"]
    assert fake_carrier.sessions == {}


@pytest.mark.parametrize("app_with_carrier", ["client-credentials"], indirect=True)
async def test_a_token_revoked_mid_call_costs_the_call_nothing(
    app_with_carrier: Litestar, fake_carrier: FakeCarrier
) -> None:
    consultation, the_token = await ultrasound_in_progress(app_with_carrier)
    body = await post(app_with_carrier, consultation, "setup", the_token)
    assert body["qos"] is not None
    fake_carrier.revoke_tokens()
    await post(app_with_carrier, consultation, "teardown", the_token)
    assert fake_carrier.sessions == {}  # deleted with a fresh token
    assert fake_carrier.tokens_issued == 2 and fake_carrier.refused_tokens == ["issued-1"]


@pytest.mark.parametrize("app_with_carrier", ["client-credentials"], indirect=True)
async def test_when_even_a_fresh_token_is_refused_the_call_goes_ahead_without_qos(
    app_with_carrier: Litestar, fake_carrier: FakeCarrier
) -> None:
    consultation, the_token = await ultrasound_in_progress(app_with_carrier)
    fake_carrier.accepts_tokens = False
    body = await post(app_with_carrier, consultation, "setup", the_token)
    assert body["qos"] is None and body["degraded"] == ["qos"]
    assert body["ice_servers"][0]["urls"] == ["turn:edge1.carrier.example:3478"]
    creates = [r for r in fake_carrier.qod_requests() if r.path.endswith("/sessions")]
    assert len(creates) == 2  # asked again once, with a fresh token
    assert fake_carrier.sessions == {}


async def orphans_closed(app: Litestar, consultation: uuid.UUID) -> list[str]:
    """The sessions closed as orphans of the consultation, once there are any (or 30 s)."""
    for _ in range(300):
        rows = await app.state.services.db.fetch(
            "SELECT detail FROM audit_events WHERE consultation_id = $1 "
            "AND action = 'video.qos_orphan_closed'",
            consultation,
        )
        if rows:
            return [row["detail"]["session_id"] for row in rows]
        await asyncio.sleep(0.1)
    return []


@pytest.mark.parametrize(
    ("client", "device"),
    [
        # Behind a proxy uvicorn reports the client's port as 0: the patient's phone number
        # (on their record) names the device.
        (("203.0.113.7", 0), {"phoneNumber": "+8613800138000"}),
        (
            ("2001:db8::7", 40000),
            {"phoneNumber": "+8613800138000", "ipv6Address": "2001:db8::7"},
        ),
        (
            ("203.0.113.7", 50123),
            {
                "phoneNumber": "+8613800138000",
                "ipv4Address": {"publicAddress": "203.0.113.7", "publicPort": 50123},
            },
        ),
    ],
)
async def test_the_carrier_hears_the_patients_phone_and_address(
    app_with_carrier: Litestar,
    fake_carrier: FakeCarrier,
    client: tuple[str, int],
    device: dict[str, object],
) -> None:
    consultation, the_token = await ultrasound_in_progress(app_with_carrier)
    transport = asgi_transport(app_with_carrier, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        response = await http.post(
            f"/api/consultations/{consultation}/video/setup", json={"token": the_token}
        )
    assert response.status_code == 200, response.text
    assert response.json()["qos"] is not None
    [created] = [r for r in fake_carrier.qod_requests() if r.path.endswith("/sessions")]
    assert created.json()["device"] == device
    await post(app_with_carrier, consultation, "teardown", the_token)
    assert fake_carrier.sessions == {}


def test_a_bad_setting_keeps_the_provider_out_and_names_the_variable(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused at start-up, not by the carrier on every call: the platform starts without the
    provider and says why (the log, ``medmarket plugins``)."""
    monkeypatch.setenv("MEDMARKET_5G_QOD_URL", "https://api.carrier.example")
    monkeypatch.setenv("MEDMARKET_5G_ACCESS_TOKEN", "carrier-token")
    monkeypatch.setenv("MEDMARKET_5G_APPLICATION_SERVER", "256.10.10.10/33")
    host = PluginHost(make_settings(database_url))
    assert "carrier-5g" not in host.video_providers.adapters
    [plugin] = [info for info in host.describe() if info.name == "medmarket-video-5g"]
    assert plugin.error is not None and "MEDMARKET_5G_APPLICATION_SERVER" in plugin.error
