"""Quotes, dispatch, tracking and cancellation against the local courier, and every way it
can fail."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import msgspec
import pytest
from medmarket_courier_http import (
    CourierRequestError,
    CourierTimeout,
    CourierUnavailable,
    HttpCourier,
    WaybillNotFound,
)

from medmarket import CourierRefused, DeliveryRequest, Money, ProofOfDelivery, Settings

from .conftest import COLD_DELIVERY, DELIVERY, courier_for
from .server import CourierServer


def fresh(request: DeliveryRequest = DELIVERY) -> DeliveryRequest:
    return msgspec.structs.replace(request, reference=f"dlv_{uuid.uuid4().hex}")


async def test_a_quote_is_the_courier_s_price_in_fen_with_the_api_key(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    quote = await courier.quote(fresh())
    assert quote.price == Money(1200, "CNY") and quote.courier_id == "courier-http"
    assert quote.quote_id and quote.estimated_delivery is not None
    assert quote.estimated_delivery.utcoffset() is not None
    [sent] = courier_http.requests
    assert (sent.method, sent.path, sent.headers["x-api-key"]) == (
        "POST",
        "/v1/quotes",
        "courier-test-key",
    )
    assert sent.json()["cargo"] == {
        "weight_g": 450,
        "cold_chain": False,
        "description": "medicine",
        "declared_value_fen": 12800,
    }
    assert sent.json()["receiver"]["mobile"] == "+8613800000000"


async def test_cold_chain_is_asked_for_and_a_courier_without_it_refuses(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    quote = await courier.quote(fresh(COLD_DELIVERY))
    assert quote.price.amount == 2000  # the courier's cold-chain surcharge
    assert courier_http.requests[-1].json()["cargo"]["cold_chain"] is True
    courier_http.refuse_cold_chain()
    with pytest.raises(CourierRefused) as refused:
        await courier.quote(fresh(COLD_DELIVERY))
    assert refused.value.reason == "cold_chain_unavailable"
    with pytest.raises(CourierRefused):
        await courier.dispatch(fresh(COLD_DELIVERY))
    assert (await courier.quote(fresh())).price.amount == 1200  # ambient parcels still go


async def test_an_address_outside_the_area_is_a_refusal(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    courier_http.refuse_city("杭州市")
    with pytest.raises(CourierRefused) as refused:
        await courier.quote(fresh())
    assert refused.value.reason == "out_of_service_area"


async def test_a_declared_value_in_another_currency_is_refused_before_asking(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    parcel = msgspec.structs.replace(DELIVERY.parcel, declared_value=Money(100, "USD"))
    with pytest.raises(CourierRefused, match="currency"):
        await courier.quote(msgspec.structs.replace(fresh(), parcel=parcel))
    assert courier_http.requests == []


async def test_dispatch_is_idempotent_on_the_reference_and_names_the_callback_route(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    request = fresh()
    first = await courier.dispatch(request)
    again = await courier.dispatch(request)
    assert again == first and first.label_url and first.label_url.endswith(".pdf")
    assert len(courier_http.waybills) == 1
    waybill = courier_http.waybill_for(request.reference)
    assert waybill.waybill_no == first.tracking_number
    sent = courier_http.requests[-1]
    assert sent.headers["idempotency-key"] == request.reference
    body = sent.json()
    assert body["notify_url"] == "https://medmarket.example/api/couriers/courier-http/callbacks"
    assert (body["out_order_no"], body["handover_code"]) == (request.reference, "4821")
    assert body["cargo"]["declared_value_fen"] == 12800


async def test_without_a_callback_secret_no_notify_url_is_sent(
    courier_http: CourierServer, settings: Settings
) -> None:
    environ = courier_http.environment()
    del environ["MEDMARKET_COURIER_HTTP_CALLBACK_SECRET"]
    from medmarket_courier_http import CourierHttpConfig

    config = CourierHttpConfig.from_environment(environ)
    assert config is not None
    await HttpCourier(config, settings).dispatch(fresh())
    assert "notify_url" not in courier_http.requests[-1].json()


async def test_the_same_reference_for_another_parcel_is_a_clear_error(
    courier: HttpCourier,
) -> None:
    request = fresh()
    await courier.dispatch(request)
    heavier = msgspec.structs.replace(
        request, parcel=msgspec.structs.replace(request.parcel, weight_grams=5000)
    )
    with pytest.raises(CourierRequestError, match="IDEMPOTENCY_CONFLICT") as error:
        await courier.dispatch(heavier)
    assert error.value.status == 409


async def test_a_validation_error_names_the_field(courier: HttpCourier) -> None:
    empty_street = msgspec.structs.replace(DELIVERY.dropoff, street="")
    with pytest.raises(CourierRequestError) as error:
        await courier.quote(msgspec.structs.replace(fresh(), dropoff=empty_street))
    assert (error.value.status, error.value.error, error.value.field) == (
        400,
        "INVALID_PARAM",
        "receiver.address",
    )
    assert "receiver.address" in str(error.value)


async def test_a_wrong_api_key_is_a_request_error(
    courier_http: CourierServer, settings: Settings
) -> None:
    courier = courier_for(courier_http, settings, api_key="not-the-key")
    with pytest.raises(CourierRequestError, match="UNAUTHORIZED"):
        await courier.quote(fresh())
    report = await courier.health()
    assert not report.healthy and "UNAUTHORIZED" in report.detail


async def test_a_delivered_parcel_is_tracked_with_its_proof(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await courier.dispatch(fresh())
    number = dispatch.tracking_number
    for status in ("picked_up", "in_transit", "out_for_delivery", "delivered"):
        courier_http.advance(number, status)
    events = await courier.track(number)
    assert [e.status for e in events] == [
        "created",
        "picked_up",
        "in_transit",
        "in_transit",
        "delivered",
    ]
    assert len({e.event_id for e in events}) == 5 and all(e.event_id for e in events)
    assert all(e.at.utcoffset() == dt.timedelta(0) for e in events), "in UTC"
    proof = events[-1].proof
    assert isinstance(proof, ProofOfDelivery)
    assert (proof.recipient, proof.code) == ("王小明", "4821")
    assert proof.photo_url and proof.photo_url.endswith(f"{number}.jpg")
    assert proof.at == events[-1].at


async def test_a_lost_parcel_fails_with_the_reason_lost(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await courier.dispatch(fresh())
    courier_http.advance(dispatch.tracking_number, "picked_up")
    courier_http.lose(dispatch.tracking_number)
    events = await courier.track(dispatch.tracking_number)
    assert [(e.status, e.reason) for e in events[-2:]] == [("in_transit", None), ("failed", "lost")]
    assert events[-1].proof is None
    courier_http.advance(dispatch.tracking_number, "returned")
    assert (await courier.track(dispatch.tracking_number))[-1].status == "returned"


async def test_unknown_statuses_are_left_out_and_unknown_fields_ignored(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await courier.dispatch(fresh())
    courier_http.advance(dispatch.tracking_number, "CUSTOMS_HOLD")
    courier_http.advance(dispatch.tracking_number, "picked_up")
    # Every answer and event of the test courier carries fields the plugin does not know.
    assert "operator" in courier_http.waybills[dispatch.tracking_number].events[0]
    events = await courier.track(dispatch.tracking_number)
    assert [e.status for e in events] == ["created", "picked_up"]


async def test_an_unknown_waybill_is_not_found(courier: HttpCourier) -> None:
    with pytest.raises(WaybillNotFound):
        await courier.track("CH404")


async def test_cancelling_twice_is_done_and_a_delivered_parcel_cannot_be(
    courier: HttpCourier, courier_http: CourierServer
) -> None:
    dispatch = await courier.dispatch(fresh())
    await courier.cancel(dispatch.tracking_number)
    await courier.cancel(dispatch.tracking_number)  # already cancelled: done
    assert (await courier.track(dispatch.tracking_number))[-1].status == "cancelled"
    delivered = await courier.dispatch(fresh())
    courier_http.advance(delivered.tracking_number, "delivered")
    with pytest.raises(CourierRequestError, match="NOT_CANCELLABLE"):
        await courier.cancel(delivered.tracking_number)


async def test_a_hung_courier_times_out_within_the_configured_seconds(
    courier_http: CourierServer, settings: Settings
) -> None:
    courier = courier_for(courier_http, settings, timeout_seconds="0.5")
    courier_http.slow(5)
    started = time.monotonic()
    with pytest.raises(CourierTimeout, match=r"0\.5 s"):
        await courier.dispatch(fresh())
    assert time.monotonic() - started < 2
    assert isinstance(CourierTimeout("x"), CourierUnavailable | TimeoutError)


async def test_a_courier_that_holds_the_request_times_out_too(
    courier_http: CourierServer, settings: Settings
) -> None:
    courier = courier_for(courier_http, settings, timeout_seconds="0.5")
    courier_http.recorder.hold()
    try:
        with pytest.raises(CourierTimeout):
            await courier.track("CH1")
    finally:
        courier_http.recorder.let_go()


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_5xx_is_unavailable(
    courier: HttpCourier, courier_http: CourierServer, status: int
) -> None:
    courier_http.fail_with(status)
    with pytest.raises(CourierUnavailable, match=f"HTTP {status}"):
        await courier.dispatch(fresh())
    report = await courier.health()
    assert not report.healthy
    courier_http.behave()
    assert (await courier.health()).healthy


async def test_a_courier_nobody_listens_for_is_unavailable(
    courier_http: CourierServer, settings: Settings
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    courier = courier_for(courier_http, settings, url=f"http://127.0.0.1:{port}")
    with pytest.raises(CourierUnavailable, match="could not be reached"):
        await courier.quote(fresh())


async def test_a_courier_on_a_private_address_needs_the_operator_s_allow_list(
    courier_http: CourierServer,
) -> None:
    from medmarket.testing import plugin_settings

    courier = courier_for(courier_http, plugin_settings())
    with pytest.raises(CourierUnavailable):
        await courier.quote(fresh())
    assert courier_http.requests == []


@pytest.mark.parametrize(
    ("status", "raised"), [(200, CourierUnavailable), (404, CourierRequestError)]
)
async def test_an_answer_that_is_not_the_courier_s_json(
    courier: HttpCourier,
    courier_http: CourierServer,
    status: int,
    raised: type[Exception],
) -> None:
    """A proxy's page in front of the courier: a 2xx that is not an envelope gave no
    usable answer; a 4xx says the request went nowhere."""
    from medmarket.testing.http_recorder import Reply

    courier_http.recorder.responder = lambda request: Reply(status=status, body="<html>hi</html>")
    with pytest.raises(raised):
        await courier.track("CH1")
