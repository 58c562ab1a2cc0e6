"""``POST /api/consultations/{id}/video/setup`` and ``/teardown``: ICE servers with coturn
credentials, media profiles, QoS sessions opened once the visit is in progress (never in the
waiting room), closed at the end, and a provider that fails degrading the call instead of
stopping it."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import subprocess
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket import CallContext, HealthReport, IceServer, MediaProfile, QosSession, hookimpl
from medmarket.app import create_app
from medmarket.consults.tests.helpers import booked_visit, ok
from medmarket.settings import Settings
from medmarket.signaling.rooms import RoomStore
from medmarket.signaling.tokens import mint_room_token
from medmarket.tests.support.fixtures import client_for, make_settings, running
from medmarket.tests.support.payments import stripe_settings
from medmarket.video.service import VideoCalls

TURN_SECRET = "a-test-turn-secret-0123456789"


class FakeCarrier:
    """A video provider with QoS, recording what the core asks of it."""

    id, display_name = "fake-carrier", "Fake carrier"

    def __init__(self) -> None:
        self.opened: list[CallContext] = []
        self.extended: list[tuple[str, int]] = []
        self.closed: list[str] = []
        self.fail: set[str] = set()
        self.lifetime = dt.timedelta(minutes=30)
        # The sessions the network holds, by device (its IPv4 address).
        self.network: dict[str, dict[str, QosSession]] = {}

    def _maybe_fail(self, what: str) -> None:
        if what in self.fail:
            raise ConnectionError(f"carrier down ({what})")

    async def ice_servers(self, call: CallContext) -> list[IceServer]:
        self._maybe_fail("ice")
        return [IceServer(urls=("turn:edge.carrier.example:3478",), username="u", credential="c")]

    async def media_profile(self, call: CallContext) -> MediaProfile:
        return MediaProfile(name="carrier-hd", max_video_kbps=4000)

    async def open_qos_session(self, call: CallContext) -> QosSession | None:
        self._maybe_fail("open")
        session = QosSession(
            provider_id=self.id,
            session_id=str(uuid.uuid4()),
            profile="QOS_M",
            expires_at=dt.datetime.now(dt.UTC) + self.lifetime,
        )
        self.network.setdefault(call.device_ipv4 or "", {})[session.session_id] = session
        # The network made the session, but its answer never reaches the platform.
        self._maybe_fail("open-answer")
        self.opened.append(call)
        return session

    async def find_qos_sessions(self, call: CallContext) -> list[QosSession]:
        self._maybe_fail("find")
        return list(self.network.get(call.device_ipv4 or "", {}).values())

    async def extend_qos_session(self, session: QosSession, seconds: int) -> QosSession:
        self._maybe_fail("extend")
        self.extended.append((session.session_id, seconds))
        assert session.expires_at is not None
        return QosSession(
            provider_id=self.id,
            session_id=session.session_id,
            profile=session.profile,
            expires_at=session.expires_at + dt.timedelta(seconds=seconds),
        )

    async def close_qos_session(self, session: QosSession) -> None:
        self._maybe_fail("close")
        self.closed.append(session.session_id)
        for sessions in self.network.values():
            sessions.pop(session.session_id, None)

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True)


class CarrierPlugin:
    def __init__(self) -> None:
        self.carrier = FakeCarrier()

    @hookimpl
    def medmarket_video_providers(self, settings: Settings) -> Sequence[Any]:
        return [self.carrier]


@pytest.fixture(scope="module")
async def carrier_app(
    database_url: str, localstripe_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Litestar, FakeCarrier]]:
    plugin = CarrierPlugin()
    settings = make_settings(
        database_url,
        stun_urls=["stun:stun.medmarket.test:3478"],
        turn_urls=["turn:turn.medmarket.test:3478?transport=udp"],
        turn_secret=TURN_SECRET,
        data_dir=str(tmp_path_factory.mktemp("data")),
        **stripe_settings(localstripe_url),
    )
    async with running(create_app(settings, extra_plugins=[("fake-carrier", plugin)])) as app:
        yield app, plugin.carrier


def room_token(app: Litestar, consultation: uuid.UUID, participant: str, **kwargs: Any) -> str:
    now = dt.datetime.now(dt.UTC)
    return mint_room_token(
        app.state.settings,
        consultation,
        participant,
        kwargs.pop("role", "patient"),
        now - dt.timedelta(minutes=5),
        now + dt.timedelta(minutes=40),
        slot_starts_at=now,
        slot_ends_at=now + dt.timedelta(minutes=10),
        **kwargs,
    )


async def visit_in_progress(app: Litestar) -> tuple[uuid.UUID, str]:
    """A paid visit whose doctor admitted the patient: (consultation, the patient's id in the
    room)."""
    visit = await booked_visit(app)
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    return uuid.UUID(visit.consultation_id), visit.patient.account.id


async def setup(
    app: Litestar, consultation: uuid.UUID, token: str, address: str | None = None
) -> httpx.Response:
    async with client_for(app, address) as http:
        return await http.post(
            f"/api/consultations/{consultation}/video/setup", json={"token": token}
        )


async def test_built_in_provider_hands_out_coturn_credentials(
    carrier_app: tuple[Litestar, FakeCarrier],
) -> None:
    app, _ = carrier_app
    consultation = uuid.uuid4()
    response = await setup(app, consultation, room_token(app, consultation, "patient-1"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["provider"] == "webrtc" and body["qos"] is None and body["degraded"] == []
    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:stun.medmarket.test:3478"]}
    assert turn["urls"] == ["turn:turn.medmarket.test:3478?transport=udp"]
    expiry, user = turn["username"].split(":")
    assert user == "patient-1"
    # Valid past the slot's end (coturn re-checks it when the allocation is refreshed).
    slot_end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    assert int(expiry) >= slot_end.timestamp() + 3600 - 5
    # The password is what coturn computes: base64(HMAC-SHA1(secret, username)), checked
    # with OpenSSL rather than with our own code.
    digest = subprocess.run(
        ["openssl", "dgst", "-sha1", "-hmac", TURN_SECRET, "-binary"],
        input=turn["username"].encode(),
        capture_output=True,
        check=True,
    ).stdout
    assert turn["credential"] == base64.b64encode(digest).decode()
    assert body["media_profile"]["name"] == "standard"


async def test_high_throughput_consultations_get_the_high_profile(
    carrier_app: tuple[Litestar, FakeCarrier],
) -> None:
    app, _ = carrier_app
    consultation = uuid.uuid4()
    token = room_token(app, consultation, "doctor-1", role="doctor", high_throughput=True)
    body = (await setup(app, consultation, token)).json()
    assert body["media_profile"]["name"] == "high-throughput"
    assert body["media_profile"]["max_height"] == 1080


@pytest.mark.parametrize(
    ("token_for", "code"),
    [("other-consultation", "wrong-consultation"), ("garbage", "malformed"), ("forged", "forged")],
)
async def test_setup_refuses_bad_room_tokens(
    carrier_app: tuple[Litestar, FakeCarrier], token_for: str, code: str
) -> None:
    app, _ = carrier_app
    consultation = uuid.uuid4()
    if token_for == "other-consultation":
        token = room_token(app, uuid.uuid4(), "p")
    elif token_for == "forged":
        genuine = room_token(app, consultation, "p")
        token = genuine.split(".")[0] + "." + room_token(app, consultation, "q").split(".")[1]
    else:
        token = "garbage"
    response = await setup(app, consultation, token)
    assert response.status_code == 401
    problem = response.json()
    assert problem["type"] == "/problems/room-token-refused"
    assert problem["errors"][0]["field"] == "token" and problem["errors"][0]["code"] == code


async def test_qos_session_opens_once_and_closes_at_teardown(
    carrier_app: tuple[Litestar, FakeCarrier],
) -> None:
    app, carrier = carrier_app
    consultation, patient = await visit_in_progress(app)
    token = room_token(app, consultation, patient, video_provider="fake-carrier")
    first = (await setup(app, consultation, token)).json()
    again = (await setup(app, consultation, token)).json()  # a page reload
    assert first["provider"] == "fake-carrier"
    assert first["ice_servers"][0]["urls"] == ["turn:edge.carrier.example:3478"]
    assert first["media_profile"]["name"] == "carrier-hd"
    assert first["qos"]["session_id"] == again["qos"]["session_id"]
    opened = [c for c in carrier.opened if c.consultation_id == str(consultation)]
    assert len(opened) == 1 and opened[0].device_ipv4 and opened[0].participant_id == patient
    # The patient's phone (on their record, in E.164) names the device to a carrier too.
    assert opened[0].device_public_port == 40000
    assert opened[0].device_phone_number == "+8613800138000"
    async with client_for(app) as http:
        response = await http.post(
            f"/api/consultations/{consultation}/video/teardown", json={"token": token}
        )
    assert response.status_code == 204
    assert first["qos"]["session_id"] in carrier.closed
    row = await app.state.services.db.fetchrow(
        "SELECT closed_at, close_reason FROM video_qos_sessions WHERE session_id = $1",
        first["qos"]["session_id"],
    )
    assert row["closed_at"] is not None and row["close_reason"] == "teardown"
    actions = await app.state.services.db.fetch(
        "SELECT action FROM audit_events WHERE consultation_id = $1 AND action LIKE 'video.%' "
        "ORDER BY id",
        consultation,
    )
    assert [a["action"] for a in actions] == ["video.qos_opened", "video.qos_closed"]


async def test_no_qos_session_while_the_patient_waits(
    carrier_app: tuple[Litestar, FakeCarrier],
) -> None:
    app, carrier = carrier_app
    visit = await booked_visit(app)
    consultation = uuid.UUID(visit.consultation_id)
    await ok(app, "POST", visit.path + "/enter", visit.patient)  # the waiting room
    token = room_token(app, consultation, visit.patient.account.id, video_provider="fake-carrier")
    waiting = (await setup(app, consultation, token)).json()
    # The page may prepare the call (ICE servers, media profile) but nothing is paid for yet.
    assert waiting["ice_servers"][0]["urls"] == ["turn:edge.carrier.example:3478"]
    assert waiting["media_profile"]["name"] == "carrier-hd"
    assert waiting["qos"] is None and waiting["degraded"] == []
    assert [c for c in carrier.opened if c.consultation_id == str(consultation)] == []
    # Admitted: the same setup now opens the QoS session.
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    started = (await setup(app, consultation, token)).json()
    assert started["qos"] is not None and started["qos"]["profile"] == "QOS_M"
    assert len([c for c in carrier.opened if c.consultation_id == str(consultation)]) == 1


async def test_carrier_failing_the_qos_session_does_not_stop_the_call(
    carrier_app: tuple[Litestar, FakeCarrier],
) -> None:
    app, carrier = carrier_app
    consultation, patient = await visit_in_progress(app)
    carrier.fail = {"open"}
    try:
        response = await setup(
            app, consultation, room_token(app, consultation, patient, video_provider="fake-carrier")
        )
    finally:
        carrier.fail = set()
    assert response.status_code == 200
    body = response.json()
    assert body["qos"] is None and body["degraded"] == ["qos"]
    assert body["ice_servers"][0]["urls"] == ["turn:edge.carrier.example:3478"]


async def test_a_session_the_carrier_made_without_telling_us_is_found_and_closed(
    carrier_app: tuple[Litestar, FakeCarrier],
) -> None:
    app, carrier = carrier_app
    device = "203.0.113.80"  # one phone on one network, in two visits
    first, first_patient = await visit_in_progress(app)
    kept = (
        await setup(
            app,
            first,
            room_token(app, first, first_patient, video_provider="fake-carrier"),
            device,
        )
    ).json()["qos"]["session_id"]
    second, second_patient = await visit_in_progress(app)
    carrier.fail = {"open-answer"}
    try:
        token = room_token(app, second, second_patient, video_provider="fake-carrier")
        body = (await setup(app, second, token, device)).json()
    finally:
        carrier.fail = set()
    # The call went ahead at once without QoS ...
    assert body["qos"] is None and body["degraded"] == ["qos"]
    [orphan] = [s for s in carrier.network[device] if s != kept]
    # ... and in the background the session the network made is found and closed; the one
    # the platform holds on record for the other visit is left alone.
    for _ in range(200):
        if orphan in carrier.closed:
            break
        await asyncio.sleep(0.02)
    assert orphan in carrier.closed and kept not in carrier.closed
    assert set(carrier.network[device]) == {kept}
    audited = await app.state.services.db.fetch(
        "SELECT detail FROM audit_events WHERE consultation_id = $1 "
        "AND action = 'video.qos_orphan_closed'",
        second,
    )
    assert [row["detail"]["session_id"] for row in audited] == [orphan]


async def test_carrier_ice_failing_falls_back_to_the_built_in_servers(
    carrier_app: tuple[Litestar, FakeCarrier],
) -> None:
    app, carrier = carrier_app
    consultation = uuid.uuid4()
    carrier.fail = {"ice"}
    try:
        body = (
            await setup(
                app,
                consultation,
                room_token(app, consultation, "p4", video_provider="fake-carrier"),
            )
        ).json()
    finally:
        carrier.fail = set()
    assert body["provider"] == "fake-carrier" and "ice" in body["degraded"]
    assert body["ice_servers"][-1]["urls"] == ["turn:turn.medmarket.test:3478?transport=udp"]


async def test_a_provider_that_is_not_installed_falls_back_to_webrtc(
    carrier_app: tuple[Litestar, FakeCarrier],
) -> None:
    app, _ = carrier_app
    consultation = uuid.uuid4()
    token = room_token(app, consultation, "p5", video_provider="uninstalled-carrier")
    body = (await setup(app, consultation, token)).json()
    assert body["provider"] == "webrtc" and body["degraded"] == ["provider"]


async def make_due(app: Litestar, session_id: str) -> None:
    await app.state.services.db.execute(
        "UPDATE video_qos_sessions SET next_check_at = now() WHERE session_id = $1", session_id
    )


async def test_sweeper_extends_a_long_call_and_closes_after_the_participant_left(
    carrier_app: tuple[Litestar, FakeCarrier],
) -> None:
    app, carrier = carrier_app
    calls: VideoCalls = app.state.video_calls
    consultation, patient = await visit_in_progress(app)
    carrier.lifetime = dt.timedelta(minutes=2)  # about to run out
    try:
        token = room_token(app, consultation, patient, video_provider="fake-carrier")
        session_id = (await setup(app, consultation, token)).json()["qos"]["session_id"]
    finally:
        carrier.lifetime = dt.timedelta(minutes=30)
    rooms = RoomStore(app.state.services.redis, max_participants=8)
    from medmarket.signaling.messages import Participant

    joined = await rooms.join(consultation, Participant(patient, "patient"), "conn-1")
    assert joined.status == "ok"
    await make_due(app, session_id)
    await calls.sweep(only=(consultation, patient))
    assert [s for s, _ in carrier.extended] == [session_id]
    # The participant leaves: first sweep notes it, the next one closes.
    await rooms.leave(consultation, patient, "conn-1")
    carrier.fail = {"close"}
    try:
        for _ in range(2):
            await make_due(app, session_id)
            await calls.sweep(only=(consultation, patient))
        row = await app.state.services.db.fetchrow(
            "SELECT closed_at, failed_attempts FROM video_qos_sessions WHERE session_id = $1",
            session_id,
        )
        assert row["closed_at"] is None and row["failed_attempts"] == 1  # retried later
    finally:
        carrier.fail = set()
    await make_due(app, session_id)
    await calls.sweep(only=(consultation, patient))
    row = await app.state.services.db.fetchrow(
        "SELECT close_reason FROM video_qos_sessions WHERE session_id = $1", session_id
    )
    assert row["close_reason"] == "participant-left" and session_id in carrier.closed
