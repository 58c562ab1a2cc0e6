"""Delivered to the door by a courier plugin (the HTTP courier against its local test
courier): quoted, paid, packed, handed over with a waybill, tracked by signed call-backs and
by polling to delivered with proof; forged and stale call-backs refused and a replayed one
applied once; a lost parcel failed, returned and refunded in full; a courier that is down
at the hand-over dispatched later from the outbox, once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from courier_http_tests.server import CourierServer, SignedCallback
from litestar import Litestar

from medmarket.delivery.service import Deliveries
from medmarket.orders.tests.helpers import (
    AMLODIPINE_FEN,
    DESK,
    INSULIN,
    Approved,
    address,
    approved_prescription,
    call,
    deliver_outbox,
    desk,
    insulin,
    notified,
    ok,
    ordered,
    stock,
    trail,
)
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import pay

CALLBACKS = "/api/couriers/courier-http/callbacks"


async def post(app: Litestar, signed: SignedCallback) -> httpx.Response:
    async with client_for(app) as http:
        return await http.post(CALLBACKS, content=signed.body, headers=signed.headers)


async def packed(app: Litestar) -> tuple[Approved, dict[str, Any]]:
    """An order to be delivered by courier, paid, accepted and packed."""
    approved = await approved_prescription(app)
    home = await address(app, approved.patient)
    order = await ordered(app, approved, fulfilment="delivery", address_id=home)
    await pay(app, approved.patient, order["id"], purpose="pharmacy_order")
    await desk(app, approved, order["id"], "accept")
    assert (await desk(app, approved, order["id"], "pack"))["status"] == "packed"
    return approved, order


async def handed_over(app: Litestar, courier: CourierServer) -> tuple[Approved, dict[str, Any]]:
    """A packed order handed to the courier."""
    approved, order = await packed(app)
    return approved, await desk(app, approved, order["id"], "hand-over")


def waybill_requests(courier: CourierServer, reference: str) -> list[Any]:
    return [
        r
        for r in courier.requests
        if r.method == "POST"
        and r.path == "/v1/waybills"
        and r.headers.get("idempotency-key") == reference
    ]


async def reference_of(app: Litestar, order_id: str) -> str:
    found: str = await app.state.services.db.fetchval(
        "SELECT reference FROM deliveries WHERE subject_id = $1", uuid.UUID(order_id)
    )
    return found


async def test_a_delivery_from_quote_to_the_door(
    courier_app: Litestar, courier: CourierServer
) -> None:
    app = courier_app
    approved = await approved_prescription(app)
    home = await address(app, approved.patient)
    body = {"pharmacy_id": approved.pharmacy.id, "fulfilment": "delivery", "address_id": home}
    quote = await ok(app, "POST", f"/api/prescriptions/{approved.id}/quote", approved.patient, body)
    assert quote["courier_id"] == "courier-http" and quote["delivery_fen"] == courier.price_fen
    assert quote["total_fen"] == 7 * AMLODIPINE_FEN + courier.price_fen
    order = await ordered(app, approved, fulfilment="delivery", address_id=home)
    assert order["total_fen"] == quote["total_fen"] and order["dropoff"]["district"] == "西湖区"
    await pay(app, approved.patient, order["id"], purpose="pharmacy_order")
    await desk(app, approved, order["id"], "accept")
    await desk(app, approved, order["id"], "pack")
    sent = await desk(app, approved, order["id"], "hand-over")
    assert sent["status"] == "dispatched"
    number = sent["tracking"]["tracking_number"]
    assert number, "the courier answered at once: the waybill is there"
    waybill = await ok(app, "GET", f"{DESK}/{order['id']}/waybill", approved.pharmacy.pharmacist)
    assert waybill["tracking_number"] == number and waybill["recipient"]["recipient"] == "王小明"
    reference = await reference_of(app, order["id"])
    [made] = waybill_requests(courier, reference)
    sent_body = json.loads(made.body)
    assert sent_body["cargo"]["cold_chain"] is False
    assert sent_body["handover_code"] == order["handover_code"]

    courier.advance(number, "picked_up")
    assert (await post(app, courier.callback(number))).status_code == 200
    assert (await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient))[
        "status"
    ] == "in_transit"
    courier.advance(number, "delivered")
    delivered = courier.callback(number)
    first = await post(app, delivered)
    assert first.status_code == 200 and first.json()["applied"] == 1
    replayed = await post(app, delivered)
    assert replayed.status_code == 200 and replayed.json() == {
        "applied": 0,
        "duplicates": 1,
        "unknown": 0,
    }
    seen = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert seen["status"] == "delivered"
    proof = seen["tracking"]["proof"]
    assert proof["recipient"] == "王小明" and proof["at"]
    statuses = [e["status"] for e in seen["events"]]
    assert statuses.count("delivered") == 1, "the replayed call-back changed nothing"
    assert statuses[:6] == [
        "created",
        "paid",
        "accepted",
        "packed",
        "dispatched",
        "courier:created",
    ]
    assert await notified(app, "pharmacy_order.delivered", approved.patient.account.id)
    assert (await trail(app, order["id"]))[-1] == "pharmacy_order.delivered"


async def test_forged_and_stale_call_backs_are_refused(
    courier_app: Litestar, courier: CourierServer
) -> None:
    app = courier_app
    approved, sent = await handed_over(app, courier)
    number = sent["tracking"]["tracking_number"]
    courier.advance(number, "delivered")
    for refused in (
        courier.forged(number),
        courier.stale(number),
        courier.tampered(courier.callback(number)),
    ):
        answer = await post(app, refused)
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    unsigned = courier.callback(number)
    async with client_for(app) as http:
        bare = await http.post(CALLBACKS, content=unsigned.body)
    assert bare.status_code == 401
    seen = await ok(app, "GET", f"/api/orders/{sent['id']}", approved.patient)
    assert seen["status"] == "dispatched", "nothing refused was applied"
    unknown = await call(app, "POST", "/api/couriers/no-such-courier/callbacks", approved.patient)
    assert unknown.status_code == 404


async def test_a_lost_parcel_is_returned_and_refunded(
    courier_app: Litestar, courier: CourierServer
) -> None:
    app = courier_app
    approved, sent = await handed_over(app, courier)
    number = sent["tracking"]["tracking_number"]
    events = courier.lose(number)
    assert (await post(app, courier.callback(number, events=events))).json()["applied"] == 2
    failed = await ok(app, "GET", f"/api/orders/{sent['id']}", approved.patient)
    assert failed["status"] == "failed" and failed["reason"] == "lost"
    assert await notified(app, "pharmacy_order.failed", approved.patient.account.id)
    # The pharmacy gets the parcel back (a courier that does not say so).
    returned = await desk(app, approved, sent["id"], "returned")
    assert returned["status"] == "returned"
    await deliver_outbox(app)
    seen = await ok(app, "GET", f"/api/orders/{sent['id']}", approved.patient)
    assert seen["status"] == "refunded" and seen["refunded_fen"] == seen["total_fen"]


async def test_the_courier_returning_a_parcel_refunds_it(
    courier_app: Litestar, courier: CourierServer
) -> None:
    app = courier_app
    approved, sent = await handed_over(app, courier)
    number = sent["tracking"]["tracking_number"]
    courier.advance(number, "failed")
    courier.advance(number, "returned")
    waybill = courier.waybills[number]
    await post(app, courier.callback(number, events=waybill.events))
    await deliver_outbox(app)
    seen = await ok(app, "GET", f"/api/orders/{sent['id']}", approved.patient)
    assert seen["status"] == "refunded" and seen["refunded_fen"] == seen["total_fen"]


async def test_polling_finds_what_no_call_back_said_once(
    courier_app: Litestar, courier: CourierServer
) -> None:
    app = courier_app
    approved, sent = await handed_over(app, courier)
    number = sent["tracking"]["tracking_number"]
    courier.advance(number, "in_transit")
    courier.advance(number, "delivered")
    assert await Deliveries(app.state.services).poll() >= 2
    seen = await ok(app, "GET", f"/api/orders/{sent['id']}", approved.patient)
    assert seen["status"] == "delivered"
    # The call-back that arrives late brings the same events: nothing happens twice.
    late = await post(app, courier.callback(number, events=courier.waybills[number].events))
    assert late.json()["applied"] == 0 and late.json()["duplicates"] >= 2


async def test_a_courier_down_at_the_hand_over_is_dispatched_later_once(
    courier_app: Litestar, courier: CourierServer
) -> None:
    app = courier_app
    approved, order = await packed(app)
    courier.fail_with(503)
    sent = await desk(app, approved, order["id"], "hand-over")
    assert sent["status"] == "dispatched" and sent["tracking"]["tracking_number"] is None
    courier.behave()
    await deliver_outbox(app)
    seen = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert seen["tracking"]["tracking_number"]
    await deliver_outbox(app)  # a redelivered message makes no second waybill
    await Deliveries(app.state.services).dispatch(
        await app.state.services.db.fetchval(
            "SELECT id FROM deliveries WHERE subject_id = $1", uuid.UUID(order["id"])
        )
    )
    reference = await reference_of(app, order["id"])
    assert (
        len({r.headers.get("idempotency-key") for r in waybill_requests(courier, reference)}) == 1
    )
    assert len([w for w in courier.waybills.values() if w.out_order_no == reference]) == 1


async def test_a_slow_courier_is_a_503_not_a_hang(
    courier_app: Litestar, courier: CourierServer
) -> None:
    app = courier_app
    approved = await approved_prescription(app)
    home = await address(app, approved.patient)
    body = {"pharmacy_id": approved.pharmacy.id, "fulfilment": "delivery", "address_id": home}
    courier.slow(3)
    answer = await call(
        app, "POST", f"/api/prescriptions/{approved.id}/quote", approved.patient, body
    )
    assert answer.status_code == 503
    courier.behave()
    courier.refuse_city("杭州市")
    refused = await call(app, "POST", approved.orders, approved.patient, body)
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "address_id"


async def test_insulin_goes_cold_or_not_at_all(
    courier_app: Litestar, courier: CourierServer
) -> None:
    app = courier_app
    approved = await approved_prescription(app, insulin())
    await stock(app, approved.pharmacy, INSULIN, 4800, unit="vial")
    home = await address(app, approved.patient)
    body = {"pharmacy_id": approved.pharmacy.id, "fulfilment": "delivery", "address_id": home}
    courier.refuse_cold_chain()
    refused = await call(app, "POST", approved.orders, approved.patient, body)
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"][0]["field"] == "address_id"
    assert "cold" in refused.json()["detail"]
    courier.behave()
    order = await ordered(app, approved, fulfilment="delivery", address_id=home)
    assert order["cold_chain"] is True
    await pay(app, approved.patient, order["id"], purpose="pharmacy_order")
    for step in ("accept", "pack", "hand-over"):
        await desk(app, approved, order["id"], step)
    [made] = waybill_requests(courier, await reference_of(app, order["id"]))
    assert json.loads(made.body)["cargo"]["cold_chain"] is True
    waybill = await ok(app, "GET", f"{DESK}/{order['id']}/waybill", approved.pharmacy.pharmacist)
    assert waybill["cold_chain"] is True
