"""The 5G provider against a fake carrier whose every message is checked against the CAMARA
Quality-On-Demand OpenAPI document of the version in use (each test runs for 1.1.0 and for
the work in progress)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import yaml
from medmarket_video_5g import FiveGProvider
from medmarket_video_5g.config import CarrierConfig, ConfigError
from medmarket_video_5g.qod import QodError, SessionInfo, qod_error
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from medmarket import CallContext
from medmarket.testing.contracts import VideoProviderContract

from .carrier import FakeCarrier, Strictness, error_info


def config(carrier: FakeCarrier, **changes: object) -> CarrierConfig:
    values: dict[str, object] = {
        "MEDMARKET_5G_QOD_URL": carrier.api_root,
        "MEDMARKET_5G_QOD_VERSION": carrier.version,
        "MEDMARKET_5G_TOKEN_URL": carrier.token_url,
        "MEDMARKET_5G_CLIENT_ID": "medmarket",
        "MEDMARKET_5G_CLIENT_SECRET": "s3cret",
        "MEDMARKET_5G_APPLICATION_SERVER": "198.51.100.0/24",
        "MEDMARKET_5G_TURN_URLS": (
            "turn:edge1.carrier.example:3478,turns:edge1.carrier.example:5349"
        ),
        "MEDMARKET_5G_TURN_SECRET": "edge-turn-secret-123456",
    }
    values.update(changes)
    loaded = CarrierConfig.from_environment({k: str(v) for k, v in values.items() if v is not None})
    assert loaded is not None
    return loaded


def call(**changes: object) -> CallContext:
    now = dt.datetime.now(dt.UTC)
    usual = CallContext(
        consultation_id="c-1",
        participant_id="patient-1",
        participant_role="patient",
        starts_at=now,
        ends_at=now + dt.timedelta(minutes=20),
        device_ipv4="203.0.113.7",
        device_public_port=50123,
    )
    return msgspec.structs.replace(usual, **changes)


async def test_a_call_opens_extends_and_deletes_a_qod_session(fake_carrier: FakeCarrier) -> None:
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    session = await provider.open_qos_session(call(wants_high_throughput=True))
    assert session is not None and session.profile == "QOS_L" and session.expires_at is not None
    created = fake_carrier.qod_requests()[0].json()
    assert created["device"] == {
        "ipv4Address": {"publicAddress": "203.0.113.7", "publicPort": 50123}
    }
    assert created["applicationServer"] == {"ipv4Address": "198.51.100.0/24"}
    # As long as the slot still runs, plus a margin.
    assert 20 * 60 <= created["duration"] <= 26 * 60
    extended = await provider.extend_qos_session(session, 900)
    assert extended.expires_at == session.expires_at + dt.timedelta(seconds=900)
    await provider.close_qos_session(session)
    await provider.close_qos_session(session)  # already gone: still fine
    methods = [
        (r.method, r.path.removeprefix(fake_carrier.base_path)) for r in fake_carrier.qod_requests()
    ]
    assert methods == [
        ("POST", "/sessions"),
        ("POST", f"/sessions/{session.session_id}/extend"),
        ("DELETE", f"/sessions/{session.session_id}"),
        ("DELETE", f"/sessions/{session.session_id}"),
    ]
    assert fake_carrier.sessions == {}
    assert fake_carrier.tokens_issued == 1  # the client-credentials token is cached
    assert all(r.headers.get("x-correlator") for r in fake_carrier.qod_requests())


async def test_ordinary_calls_use_the_ordinary_profile_and_a_phone_number(
    fake_carrier: FakeCarrier,
) -> None:
    provider = FiveGProvider(config(fake_carrier, MEDMARKET_5G_QOS_PROFILE="QOS_M"), timeout=5)
    session = await provider.open_qos_session(
        call(device_ipv4=None, device_public_port=None, device_phone_number="+8613800138000")
    )
    assert session is not None and session.profile == "QOS_M"
    assert fake_carrier.qod_requests()[0].json()["device"] == {"phoneNumber": "+8613800138000"}
    await provider.close_qos_session(session)


@pytest.mark.parametrize(
    ("setting", "sent"),
    [
        ("198.51.100.10", {"ipv4Address": "198.51.100.10"}),
        ("2001:db8:85a3:8d3::/64", {"ipv6Address": "2001:db8:85a3:8d3::/64"}),
        (
            "198.51.100.0/24,2001:db8::7",
            {"ipv4Address": "198.51.100.0/24", "ipv6Address": "2001:db8::7"},
        ),
    ],
)
async def test_the_application_server_is_named_by_ipv4_ipv6_or_both(
    fake_carrier: FakeCarrier, setting: str, sent: dict[str, str]
) -> None:
    provider = FiveGProvider(
        config(fake_carrier, MEDMARKET_5G_APPLICATION_SERVER=setting), timeout=5
    )
    session = await provider.open_qos_session(call())
    assert session is not None
    assert fake_carrier.qod_requests()[0].json()["applicationServer"] == sent
    await provider.close_qos_session(session)


async def test_a_device_the_carrier_cannot_identify_gets_no_qos(fake_carrier: FakeCarrier) -> None:
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    assert await provider.open_qos_session(call(device_public_port=None)) is None
    assert await provider.open_qos_session(call(device_public_port=0)) is None
    not_e164 = call(device_public_port=None, device_phone_number="13800138000")
    assert await provider.open_qos_session(not_e164) is None
    assert fake_carrier.qod_requests() == []


PHONE = "+8613800138000"


@pytest.mark.parametrize(
    ("device", "sent"),
    [
        # Behind a proxy the port is unknown: CAMARA wants one beside a public IPv4 address,
        # so the phone number alone names the device.
        (
            {"device_ipv4": "203.0.113.7", "device_public_port": None},
            {"phoneNumber": PHONE},
        ),
        (
            {"device_ipv4": "203.0.113.7", "device_public_port": 50123},
            {
                "phoneNumber": PHONE,
                "ipv4Address": {"publicAddress": "203.0.113.7", "publicPort": 50123},
            },
        ),
        (
            {"device_ipv4": None, "device_public_port": None, "device_ipv6": "2001:db8::7"},
            {"phoneNumber": PHONE, "ipv6Address": "2001:db8::7"},
        ),
        # An IPv6 address where an older core put every address is still sent as IPv6.
        (
            {"device_ipv4": "2001:db8::7", "device_public_port": 50123},
            {"phoneNumber": PHONE, "ipv6Address": "2001:db8::7"},
        ),
        (
            {"device_ipv4": "::ffff:203.0.113.7", "device_public_port": 50123},
            {
                "phoneNumber": PHONE,
                "ipv4Address": {"publicAddress": "203.0.113.7", "publicPort": 50123},
            },
        ),
    ],
)
async def test_the_device_is_named_by_every_identifier_the_core_knows(
    fake_carrier: FakeCarrier, device: dict[str, object], sent: dict[str, object]
) -> None:
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    session = await provider.open_qos_session(call(device_phone_number=PHONE, **device))
    assert session is not None
    assert fake_carrier.qod_requests()[0].json()["device"] == sent
    await provider.close_qos_session(session)


async def test_the_sessions_of_a_device_are_found_by_any_of_its_identifiers(
    fake_carrier: FakeCarrier,
) -> None:
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    mine = await provider.open_qos_session(call(device_phone_number=PHONE))
    other = await provider.open_qos_session(call(device_ipv4="203.0.113.9"))
    assert mine is not None and other is not None
    # Asked by the same device (the phone number), behind a proxy this time.
    found = await provider.find_qos_sessions(
        call(device_public_port=None, device_phone_number=PHONE)
    )
    assert [s.session_id for s in found] == [mine.session_id]
    assert found[0].provider_id == "carrier-5g" and found[0].expires_at is not None
    asked = fake_carrier.qod_requests()[-1]
    assert asked.path == fake_carrier.base_path + "/retrieve-sessions"
    assert asked.json() == {"device": {"phoneNumber": PHONE}}
    nobody = call(device_ipv4=None, device_public_port=None)
    assert await provider.find_qos_sessions(nobody) == []  # no device: nothing to ask
    for session in (mine, other):
        await provider.close_qos_session(session)


async def test_an_unavailable_session_is_released_and_means_no_qos(
    fake_carrier: FakeCarrier,
) -> None:
    fake_carrier.mode = "unavailable"
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    assert await provider.open_qos_session(call()) is None
    assert [r.method for r in fake_carrier.qod_requests()] == ["POST", "DELETE"]
    assert fake_carrier.sessions == {}


async def test_carrier_refusals_are_errors_with_the_carriers_code(
    fake_carrier: FakeCarrier,
) -> None:
    fake_carrier.mode = "refuse"
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    with pytest.raises(QodError) as caught:
        await provider.open_qos_session(call())
    assert (caught.value.status, caught.value.code) == (422, "SERVICE_NOT_APPLICABLE")


async def test_a_session_the_network_has_not_started_yet_cannot_be_extended(
    fake_carrier: FakeCarrier,
) -> None:
    """REQUESTED: no expiry yet (the duration stands in for it); the carrier refuses to extend
    such a session with its own code, which the core sees (and tries again later)."""
    fake_carrier.mode = "requested"
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    before = dt.datetime.now(dt.UTC)
    session = await provider.open_qos_session(call())
    assert session is not None and session.expires_at is not None
    assert session.expires_at >= before + dt.timedelta(minutes=20)
    with pytest.raises(QodError) as caught:
        await provider.extend_qos_session(session, 900)
    assert (caught.value.status, caught.value.code) == (
        409,
        "QUALITY_ON_DEMAND.SESSION_EXTENSION_NOT_ALLOWED",
    )
    await provider.close_qos_session(session)
    assert fake_carrier.sessions == {}


def _examples(document: Any) -> Iterator[Any]:
    for example in document["components"].get("examples", {}).values():
        yield example["value"]
    for response in document["components"].get("responses", {}).values():
        for media in response.get("content", {}).values():
            if "example" in media:
                yield media["example"]
            for example in media.get("examples", {}).values():
                yield example["value"]


def test_the_documents_own_answers_are_understood(qod_spec_path: Path) -> None:
    """Every session and every ErrorInfo the version's document gives as an example is read:
    sessions as the plugin's SessionInfo, errors as a QodError with their status and code."""
    document = yaml.safe_load(qod_spec_path.read_text())
    sessions, errors = 0, 0
    for value in _examples(document):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "sessionId" in item:
                info = msgspec.convert(item, SessionInfo)
                assert info.session_id == item["sessionId"]
                sessions += 1
            elif isinstance(item, dict) and set(item) == {"status", "code", "message"}:
                error = qod_error(httpx.Response(item["status"], json=item))
                assert (error.status, error.code) == (item["status"], item["code"])
                errors += 1
    assert sessions >= 4 and errors >= 10


async def test_a_token_the_carrier_revokes_mid_life_is_replaced_and_the_call_asked_again(
    fake_carrier: FakeCarrier,
) -> None:
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    session = await provider.open_qos_session(call())
    assert session is not None and session.expires_at is not None
    assert fake_carrier.tokens_issued == 1
    fake_carrier.revoke_tokens()  # an hour's token, revoked after a minute
    extended = await provider.extend_qos_session(session, 900)
    assert extended.expires_at == session.expires_at + dt.timedelta(seconds=900)
    assert fake_carrier.refused_tokens == ["issued-1"]
    assert fake_carrier.tokens_issued == 2
    refused, asked_again = fake_carrier.qod_requests()[1:]
    assert (
        refused.path
        == asked_again.path
        == f"{fake_carrier.base_path}/sessions/{session.session_id}/extend"
    )
    assert asked_again.headers["authorization"] == "Bearer issued-2"
    assert refused.headers["x-correlator"] == asked_again.headers["x-correlator"]
    await provider.close_qos_session(session)  # the fresh token is kept
    assert fake_carrier.tokens_issued == 2 and fake_carrier.sessions == {}


async def test_a_fresh_token_refused_too_is_a_failure_after_one_retry(
    fake_carrier: FakeCarrier, caplog: pytest.LogCaptureFixture
) -> None:
    fake_carrier.accepts_tokens = False
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    with pytest.raises(QodError) as caught:
        await provider.open_qos_session(call())
    assert (caught.value.status, caught.value.code) == (401, "UNAUTHENTICATED")
    assert [r.method for r in fake_carrier.qod_requests()] == ["POST", "POST"]
    assert fake_carrier.refused_tokens == ["issued-1", "issued-2"]
    assert "refused a fresh token too" in caplog.text
    assert fake_carrier.sessions == {}


async def test_a_refused_static_token_is_not_asked_again(
    fake_carrier: FakeCarrier, caplog: pytest.LogCaptureFixture
) -> None:
    """A configured access token cannot be renewed: one 401 is the answer (and the log names
    the variable to fix)."""
    provider = FiveGProvider(
        config(
            fake_carrier,
            MEDMARKET_5G_TOKEN_URL=None,
            MEDMARKET_5G_ACCESS_TOKEN="carrier-token",
        ),
        timeout=5,
    )
    fake_carrier.revoke_tokens()
    with pytest.raises(QodError) as caught:
        await provider.open_qos_session(call())
    assert caught.value.status == 401
    assert len(fake_carrier.qod_requests()) == 1 and fake_carrier.tokens_issued == 0
    assert "MEDMARKET_5G_ACCESS_TOKEN" in caplog.text


async def test_edge_turn_credentials_outlive_the_slot(fake_carrier: FakeCarrier) -> None:
    provider = FiveGProvider(config(fake_carrier), timeout=5)
    the_call = call()
    [server] = await provider.ice_servers(the_call)
    assert server.urls == ("turn:edge1.carrier.example:3478", "turns:edge1.carrier.example:5349")
    expiry, user = (server.username or "").split(":")
    assert user == "patient-1" and int(expiry) > the_call.ends_at.timestamp()


async def test_health_names_the_version_spoken_and_where(fake_carrier: FakeCarrier) -> None:
    report = await FiveGProvider(config(fake_carrier), timeout=5).health()
    version = "1.1.0" if fake_carrier.version == "v1" else "wip"
    assert report.detail == f"Quality-On-Demand {version} at {fake_carrier.qod_base_url}"


def test_the_validator_is_not_a_rubber_stamp(
    qod_openapi: OpenAPI, fake_carrier: FakeCarrier, strictness: Strictness
) -> None:
    """What the fake carrier checks would catch a body the API does not allow, an undeclared
    property, a call without a bearer token, a call to another version's base path, or an
    error answer that is not an ErrorInfo, and passes good ones."""
    good = (
        b'{"device": {"phoneNumber": "+8613800138000"}, "applicationServer":'
        b' {"ipv4Address": "198.51.100.0/24"}, "qosProfile": "QOS_L", "duration": 600}'
    )
    bad = good.replace(b'"duration": 600', b'"duration": 0')
    extra = json.loads(good)
    extra["device"]["colour"] = "red"

    def request(body: bytes, authorized: bool = True, path: str | None = None) -> MockRequest:
        headers = {"content-type": "application/json"}
        if authorized:
            headers["authorization"] = "Bearer t"
        return MockRequest(
            fake_carrier.recorder.url,
            "post",
            path or fake_carrier.base_path + "/sessions",
            headers=headers,
            data=body,
        )

    def error(body: dict[str, object]) -> MockResponse:
        return MockResponse(json.dumps(body).encode(), status_code=422)

    qod_openapi.validate_request(request(good))
    with pytest.raises(Exception, match=r"."):
        qod_openapi.validate_request(request(bad))
    with pytest.raises(Exception, match=r"."):
        qod_openapi.validate_request(request(good, authorized=False))
    if fake_carrier.version == "vwip":  # 1.1.0 gives this rule in words only (see config)
        bad_server = good.replace(b"198.51.100.0/24", b"256.10.10.10/33")
        with pytest.raises(Exception, match=r"."):
            qod_openapi.validate_request(request(bad_server))
    other_version = "/quality-on-demand/" + ("vwip" if fake_carrier.version == "v1" else "v1")
    with pytest.raises(Exception, match=r"."):
        qod_openapi.validate_request(request(good, path=other_version + "/sessions"))
    assert strictness.check("CreateSession", json.loads(good)) == []
    assert strictness.check("CreateSession", extra) == ["$.device.colour"]
    refused = error_info(422, "SERVICE_NOT_APPLICABLE", "Not for this device.")
    qod_openapi.validate_response(request(good), error(refused))
    with pytest.raises(Exception, match=r"."):
        qod_openapi.validate_response(request(good), error({"error": "no"}))


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"MEDMARKET_5G_APPLICATION_SERVER": "edge.carrier"}, "APPLICATION_SERVER"),
        ({"MEDMARKET_5G_APPLICATION_SERVER": "256.10.10.10/33"}, "APPLICATION_SERVER"),
        ({"MEDMARKET_5G_TOKEN_URL": None}, "ACCESS_TOKEN"),
        ({"MEDMARKET_5G_TURN_SECRET": None}, "TURN_SECRET"),
        ({"MEDMARKET_5G_QOD_URL": "ftp://x"}, "QOD_URL"),
    ],
)
def test_bad_configuration_names_the_variable(
    fake_carrier: FakeCarrier, changes: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        config(fake_carrier, **changes)


def test_without_a_qod_url_the_plugin_offers_nothing() -> None:
    assert CarrierConfig.from_environment({}) is None


class TestFiveGProviderContract(VideoProviderContract):
    """The contract every video provider passes, against the fake carrier (each version)."""

    @pytest.fixture
    def provider(self, fake_carrier: FakeCarrier) -> FiveGProvider:
        return FiveGProvider(config(fake_carrier), timeout=5)

    @pytest.fixture
    def call(self) -> CallContext:
        return call()
