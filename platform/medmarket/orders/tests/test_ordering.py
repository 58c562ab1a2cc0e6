"""A patient orders an approved prescription and collects it at the counter; a prescription
is filled once, even when two orders arrive at once; a pharmacy out of stock refunds in
full, one short of an item refunds that item once the patient agrees; nobody else sees an
order."""

from __future__ import annotations

import asyncio

from litestar import Litestar

from medmarket.orders.tests.helpers import (
    AMLODIPINE,
    AMLODIPINE_FEN,
    DESK,
    METFORMIN,
    METFORMIN_FEN,
    approved_prescription,
    call,
    deliver_outbox,
    desk,
    notified,
    ok,
    on_hand,
    ordered,
    paid_order,
    prescription_status,
    trail,
    with_metformin,
)
from medmarket.prescriptions.tests.helpers import prescribe, visit_in_progress
from medmarket.tests.support.seed import pay


async def test_an_approved_prescription_is_ordered_paid_and_collected(app: Litestar) -> None:
    approved = await approved_prescription(app)
    choices = await ok(app, "GET", f"/api/prescriptions/{approved.id}/pharmacies", approved.patient)
    [own] = [c for c in choices if c["pharmacy_id"] == approved.pharmacy.id]
    assert own["own_hospital"] and own["drugs_fen"] == 7 * AMLODIPINE_FEN

    order = await ordered(app, approved)
    assert order["status"] == "created" and order["fulfilment"] == "pickup"
    assert (order["drugs_fen"], order["delivery_fen"], order["total_fen"]) == (1050, 0, 1050)
    assert [line["drug_id"] for line in order["lines"]] == [AMLODIPINE]
    code = order["handover_code"]
    assert len(code) == 6 and code.isdigit()

    await pay(app, approved.patient, order["id"], purpose="pharmacy_order")
    paid = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert paid["status"] == "paid" and paid["paid_at"]
    pharmacist = approved.pharmacy.pharmacist
    assert await notified(app, "pharmacy_order.new", pharmacist.id)
    [listed] = [o for o in await ok(app, "GET", DESK, pharmacist) if o["id"] == order["id"]]
    assert listed["handover_code"] is None, "the pharmacy never sees the patient's code"

    accepted = await desk(app, approved, order["id"], "accept")
    assert accepted["status"] == "accepted"
    assert await prescription_status(app, approved) == "dispensed"
    assert await on_hand(app, approved, AMLODIPINE) == 100 - 7
    ready = await desk(app, approved, order["id"], "pack")
    assert ready["status"] == "ready"
    assert await notified(app, "pharmacy_order.ready", approved.patient.account.id)

    wrong = await call(
        app,
        "POST",
        f"{DESK}/{order['id']}/collect",
        pharmacist,
        {"code": "000000" if code != "000000" else "111111"},
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "code"
    collected = await desk(app, approved, order["id"], "collect", {"code": code})
    assert collected["status"] == "collected"

    seen = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert [e["status"] for e in seen["events"]] == [
        "created",
        "paid",
        "accepted",
        "ready",
        "collected",
    ]
    assert all(e["at"] for e in seen["events"])
    assert await trail(app, order["id"]) == [
        "pharmacy_order.created",
        "pharmacy_order.paid",
        "pharmacy_order.accepted",
        "pharmacy_order.ready",
        "pharmacy_order.wrong_pickup_code",
        "pharmacy_order.collected",
    ]


async def test_two_orders_of_one_prescription_at_once_one_wins(app: Litestar) -> None:
    approved = await approved_prescription(app)
    body = {"pharmacy_id": approved.pharmacy.id, "fulfilment": "pickup"}
    answers = await asyncio.gather(
        *(call(app, "POST", approved.orders, approved.patient, body) for _ in range(4))
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201, 409, 409, 409], [a.text for a in answers]
    winner = next(a.json() for a in answers if a.status_code == 201)
    for loser in (a for a in answers if a.status_code == 409):
        assert loser.json()["errors"][0]["field"] == "prescription_id"
        assert loser.json()["order_id"] == winner["id"]
    live = await app.state.services.db.fetchval(
        "SELECT count(*) FROM pharmacy_orders WHERE prescription_id = $1::uuid", approved.id
    )
    assert live == 1
    # Once it is cancelled the prescription may be ordered again.
    await ok(app, "POST", f"/api/orders/{winner['id']}/cancel", approved.patient)
    again = await ordered(app, approved)
    assert again["id"] != winner["id"]


async def test_a_pharmacy_out_of_stock_refunds_in_full(app: Litestar) -> None:
    approved = await approved_prescription(app)
    order, payment = await paid_order(app, approved)
    rejected = await desk(app, approved, order["id"], "reject", {"reason": "out_of_stock"})
    assert rejected["status"] == "rejected"
    await deliver_outbox(app)
    seen = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert seen["status"] == "refunded" and seen["refunded_fen"] == payment["amount"]["amount"]
    assert await prescription_status(app, approved) == "approved"
    assert await notified(app, "pharmacy_order.rejected", approved.patient.account.id)
    # Refused by this pharmacy, it may be ordered elsewhere (or here again).
    assert (await ordered(app, approved))["status"] == "created"


async def test_a_short_order_refunds_what_is_missing_once_the_patient_agrees(
    app: Litestar,
) -> None:
    approved = await approved_prescription(app, with_metformin())
    order, payment = await paid_order(app, approved)
    assert order["drugs_fen"] == 7 * AMLODIPINE_FEN + 14 * METFORMIN_FEN
    metformin = next(line["position"] for line in order["lines"] if line["drug_id"] == METFORMIN)
    bad = await call(
        app,
        "POST",
        f"{DESK}/{order['id']}/short",
        approved.pharmacy.pharmacist,
        {"unavailable": [0, 1]},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "unavailable"
    short = await desk(
        app, approved, order["id"], "short", {"unavailable": [metformin], "note": "二甲双胍缺货"}
    )
    assert short["status"] == "short"
    assert [line["available"] for line in short["lines"]] == [
        line["drug_id"] != METFORMIN for line in short["lines"]
    ]
    agreed = await ok(app, "POST", f"/api/orders/{order['id']}/agree", approved.patient)
    assert agreed["status"] == "accepted"
    assert await on_hand(app, approved, METFORMIN) == 100, "nothing taken of what is missing"
    assert await on_hand(app, approved, AMLODIPINE) == 100 - 7
    await deliver_outbox(app)
    seen = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert seen["status"] == "accepted" and seen["refunded_fen"] == 14 * METFORMIN_FEN
    assert payment["amount"]["amount"] == seen["total_fen"]


async def test_declining_a_short_order_refunds_in_full(app: Litestar) -> None:
    approved = await approved_prescription(app, with_metformin())
    order, payment = await paid_order(app, approved)
    await desk(app, approved, order["id"], "short", {"unavailable": [1]})
    declined = await ok(app, "POST", f"/api/orders/{order['id']}/decline", approved.patient)
    assert declined["status"] == "rejected"
    await deliver_outbox(app)
    seen = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert (seen["status"], seen["refunded_fen"]) == ("refunded", payment["amount"]["amount"])


async def test_accepting_with_too_little_stock_names_what_is_missing(app: Litestar) -> None:
    approved = await approved_prescription(app)
    order, _ = await paid_order(app, approved)
    await app.state.services.db.execute(
        "UPDATE pharmacy_stock SET on_hand = 3 WHERE pharmacy_id = $1::uuid", approved.pharmacy.id
    )
    refused = await call(app, "POST", f"{DESK}/{order['id']}/accept", approved.pharmacy.pharmacist)
    assert refused.status_code == 409 and refused.json()["positions"] == [0]
    assert await prescription_status(app, approved) == "approved"


async def test_nobody_else_sees_an_order(app: Litestar) -> None:
    approved = await approved_prescription(app)
    order, _ = await paid_order(app, approved)
    path = f"/api/orders/{order['id']}"
    stranger = await approved_prescription(app)
    assert (await call(app, "GET", path, stranger.patient)).status_code == 404
    assert (await call(app, "POST", path + "/cancel", stranger.patient)).status_code == 404
    assert order["id"] not in [
        o["id"] for o in await ok(app, "GET", "/api/orders", stranger.patient)
    ]
    # Another pharmacy's pharmacist: as if it did not exist.
    other = stranger.pharmacy.pharmacist
    assert (await call(app, "GET", f"{DESK}/{order['id']}", other)).status_code == 404
    assert (await call(app, "POST", f"{DESK}/{order['id']}/accept", other)).status_code == 404
    assert order["id"] not in [o["id"] for o in await ok(app, "GET", DESK, other)]
    # The patient cannot use the desk, the pharmacist not the patient's API.
    assert (await call(app, "GET", DESK, approved.patient)).status_code == 403
    assert (await call(app, "GET", path, approved.pharmacy.pharmacist)).status_code == 403
    # Nor order another patient's prescription.
    body = {"pharmacy_id": approved.pharmacy.id, "fulfilment": "pickup"}
    assert (await call(app, "POST", approved.orders, stranger.patient, body)).status_code == 404


async def test_only_an_approved_prescription_is_ordered(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    body = {"pharmacy_id": "00000000-0000-0000-0000-000000000000", "fulfilment": "pickup"}
    refused = await call(
        app, "POST", f"/api/prescriptions/{issued['id']}/orders", visit.patient, body
    )
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "awaiting_review"


async def test_delivery_needs_an_address_of_the_book(app: Litestar) -> None:
    approved = await approved_prescription(app)
    body = {"pharmacy_id": approved.pharmacy.id, "fulfilment": "delivery"}
    refused = await call(app, "POST", approved.orders, approved.patient, body)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "address_id"


async def test_guessing_the_pickup_code_is_stopped(app: Litestar) -> None:
    approved = await approved_prescription(app)
    order, _ = await paid_order(app, approved)
    await desk(app, approved, order["id"], "accept")
    await desk(app, approved, order["id"], "pack")
    code = order["handover_code"]
    guesses = [f"{n:06d}" for n in range(10) if f"{n:06d}" != code][:5]
    collect = f"{DESK}/{order['id']}/collect"
    pharmacist = approved.pharmacy.pharmacist
    for guess in guesses:
        wrong = await call(app, "POST", collect, pharmacist, {"code": guess})
        assert wrong.status_code == 422
    stopped = await call(app, "POST", collect, pharmacist, {"code": code})
    assert stopped.status_code == 429, "even the right code waits once guessing began"
    assert 1 <= int(stopped.headers["retry-after"]) <= 15 * 60
    now = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert now["status"] == "ready"
    assert (await trail(app, order["id"])).count("pharmacy_order.wrong_pickup_code") == 5
