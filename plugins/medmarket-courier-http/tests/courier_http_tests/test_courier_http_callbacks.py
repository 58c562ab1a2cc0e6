"""Status call-backs: genuine ones are read, forged, stale, tampered and unsigned ones are
refused, replays read the same events (the core applies each event id once)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import msgspec
import pytest
from medmarket_courier_http import HttpCourier, signature

from medmarket import CallbackRejected, Dispatch, Settings

from .conftest import DELIVERY, courier_for
from .server import CourierServer, SignedCallback


async def dispatched(courier: HttpCourier) -> Dispatch:
    return await courier.dispatch(
        msgspec.structs.replace(DELIVERY, reference=f"dlv_{uuid.uuid4().hex}")
    )


def read(courier: HttpCourier, signed: SignedCallback, now: dt.datetime | None = None) -> list:  # type: ignore[type-arg]
    lower = {name.lower(): value for name, value in signed.headers.items()}
    return courier.read_callback(lower, signed.body, now or dt.datetime.now(dt.UTC))


async def test_a_delivery_call_back_carries_its_event_id_and_proof(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await dispatched(courier)
    courier_http.advance(dispatch.tracking_number, "delivered")
    [event] = read(courier, courier_http.callback(dispatch.tracking_number))
    assert event.tracking_number == dispatch.tracking_number
    assert event.event.status == "delivered" and event.event.event_id
    assert event.event.proof is not None and event.event.proof.code == "4821"


async def test_headers_are_matched_whatever_their_case(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await dispatched(courier)
    signed = courier_http.callback(dispatch.tracking_number)
    assert courier.read_callback(signed.headers, signed.body, signed.sent_at)  # as sent
    upper = {name.upper(): value for name, value in signed.headers.items()}
    assert courier.read_callback(upper, signed.body, signed.sent_at)


async def test_a_lost_parcel_s_call_back_has_the_reason_lost(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await dispatched(courier)
    events = courier_http.lose(dispatch.tracking_number)
    read_back = read(courier, courier_http.callback(dispatch.tracking_number, events=events))
    assert [(e.event.status, e.event.reason) for e in read_back] == [
        ("in_transit", None),
        ("failed", "lost"),
    ]
    assert [e.event.event_id for e in read_back] == [e["event_id"] for e in events]


async def test_a_forged_call_back_is_rejected(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await dispatched(courier)
    with pytest.raises(CallbackRejected, match="signature"):
        read(courier, courier_http.forged(dispatch.tracking_number))


async def test_a_body_changed_after_signing_is_rejected(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await dispatched(courier)
    courier_http.advance(dispatch.tracking_number, "failed")
    signed = courier_http.callback(dispatch.tracking_number)
    delivered = signed.body.replace(b'"DELIVERY_FAILED"', b'"SIGNED"')
    assert delivered != signed.body
    for body in (delivered, courier_http.tampered(signed).body):
        with pytest.raises(CallbackRejected):
            courier.read_callback(signed.headers, body, signed.sent_at)


@pytest.mark.parametrize(
    "age", [dt.timedelta(seconds=301), dt.timedelta(hours=1), dt.timedelta(seconds=-301)]
)
async def test_a_call_back_outside_the_tolerance_is_rejected(
    courier: HttpCourier, courier_http: CourierServer, age: dt.timedelta
) -> None:
    dispatch = await dispatched(courier)
    with pytest.raises(CallbackRejected, match="timestamp"):
        read(courier, courier_http.stale(dispatch.tracking_number, age))


async def test_inside_the_tolerance_either_way_is_read(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await dispatched(courier)
    signed = courier_http.callback(dispatch.tracking_number)
    for drift in (299, -299):
        assert read(courier, signed, signed.sent_at + dt.timedelta(seconds=drift))


async def test_the_tolerance_is_configured(courier_http: CourierServer, settings: Settings) -> None:
    courier = courier_for(courier_http, settings, callback_tolerance_seconds="10")
    dispatch = await dispatched(courier)
    signed = courier_http.callback(dispatch.tracking_number)
    with pytest.raises(CallbackRejected):
        read(courier, signed, signed.sent_at + dt.timedelta(seconds=11))


async def test_a_replay_reads_the_same_events_with_the_same_ids(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await dispatched(courier)
    courier_http.advance(dispatch.tracking_number, "picked_up")
    signed = courier_http.callback(dispatch.tracking_number)
    first, again = read(courier, signed), read(courier, signed)
    assert first == again and first[0].event.event_id


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-courier-timestamp": "1700000000"},
        {"x-courier-signature": "0" * 64},
        {"x-courier-timestamp": "soon", "x-courier-signature": "0" * 64},
        {"x-courier-timestamp": "١٧٠٠٠٠٠٠٠٠", "x-courier-signature": "0" * 64},
    ],
)
def test_missing_or_malformed_signature_headers_are_rejected(
    courier: HttpCourier, headers: dict[str, str]
) -> None:
    with pytest.raises(CallbackRejected):
        courier.read_callback(headers, b"{}", dt.datetime.now(dt.UTC))


def test_a_signed_body_that_is_not_a_call_back_is_rejected(courier: HttpCourier) -> None:
    now = dt.datetime.now(dt.UTC)
    timestamp = str(int(now.timestamp()))
    for body in (b"not json", json.dumps({"waybill_no": 1}).encode()):
        headers = {
            "x-courier-timestamp": timestamp,
            "x-courier-signature": signature("courier-test-callback-secret", timestamp, body),
        }
        with pytest.raises(CallbackRejected, match="not one"):
            courier.read_callback(headers, body, now)


async def test_without_a_secret_every_call_back_is_rejected(
    courier_http: CourierServer, settings: Settings
) -> None:
    from medmarket_courier_http import CourierHttpConfig

    environ = courier_http.environment()
    del environ["MEDMARKET_COURIER_HTTP_CALLBACK_SECRET"]
    config = CourierHttpConfig.from_environment(environ)
    assert config is not None
    courier = HttpCourier(config, settings)
    dispatch = await dispatched(courier)
    with pytest.raises(CallbackRejected, match="SECRET"):
        read(courier, courier_http.callback(dispatch.tracking_number))


async def test_the_server_posts_call_backs_to_a_notify_url(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    """What the platform's integration tests do with the core's route."""
    from medmarket.testing.http_recorder import HttpRecorder

    receiver = HttpRecorder()
    with receiver.serving():
        dispatch = await dispatched(courier)
        courier_http.advance(dispatch.tracking_number, "picked_up")
        signed = courier_http.callback(dispatch.tracking_number)
        notify_url = f"{receiver.url}/api/couriers/courier-http/callbacks"
        for _ in range(2):  # a replay: the same bytes twice
            assert (await courier_http.post_callback(signed, notify_url)).status_code == 200
        first, again = receiver.requests
    assert first.body == again.body == signed.body
    assert first.path == "/api/couriers/courier-http/callbacks"
    [event] = courier.read_callback(first.headers, first.body, dt.datetime.now(dt.UTC))
    assert event.event.status == "picked_up"
