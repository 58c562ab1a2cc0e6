"""The order pages over HTTP (the browser test walks the happy path): a delivery without an
address is told beside its field and nothing is ordered; a short order is shown with the
patient's two choices and declining refunds it; another patient's order, and another
pharmacy's, is the 404 page; the desk's short form names the items it lacks."""

from __future__ import annotations

import re

from litestar import Litestar

from medmarket.orders.tests.helpers import (
    approved_prescription,
    desk,
    ok,
    paid_order,
    with_metformin,
)
from medmarket.prescriptions.tests.review_helpers import reviewing_pharmacy
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.pages import (
    browser_session,
    error_beside,
    get_page,
    post_form,
    text_of,
)
from medmarket.tests.support.seed import ready_patient


async def test_delivery_without_an_address_is_told_beside_the_field(app: Litestar) -> None:
    approved = await approved_prescription(app)
    async with client_for(app) as http:
        await browser_session(http, approved.patient.account)
        form = f"/prescriptions/{approved.id}/order"
        chosen = {"pharmacy_id": approved.pharmacy.id, "fulfilment": "delivery"}
        refused = await post_form(http, form, chosen)
        assert refused.status_code == 422
        assert error_beside(refused.text, "fulfilment") is None
        assert "请选择收货地址" in text_of(refused.text)
        assert await ok(app, "GET", "/api/orders", approved.patient) == []

        placed = await post_form(http, form, {**chosen, "fulfilment": "pickup"})
        assert placed.status_code == 303
        [order] = await ok(app, "GET", "/api/orders", approved.patient)
        assert placed.headers["location"] == f"/orders/{order['id']}/pay"
        again = await post_form(http, form, {**chosen, "fulfilment": "pickup"})
        assert again.headers["location"] == f"/orders/{order['id']}", "shown the one it has"
        reopened = await get_page(http, form)
        assert reopened.headers["location"] == f"/orders/{order['id']}"


async def test_a_short_order_is_declined_from_its_page(app: Litestar) -> None:
    approved = await approved_prescription(app, with_metformin())
    order, _ = await paid_order(app, approved)
    async with client_for(app) as http:
        await browser_session(http, approved.pharmacy.pharmacist)
        desk_page = f"/pharmacy/orders/{order['id']}"
        nothing_ticked = await post_form(http, f"{desk_page}/short", {}, from_page=desk_page)
        assert nothing_ticked.status_code == 422
        assert "请勾选没有货的药品" in text_of(nothing_ticked.text)
        marked = await post_form(
            http, f"{desk_page}/short", [("unavailable", "1")], from_page=desk_page
        )
        assert marked.status_code == 303

    async with client_for(app) as http:
        await browser_session(http, approved.patient.account)
        page = await get_page(http, f"/orders/{order['id']}")
        assert "只买有货的部分" in page.text and "取消订单" in page.text
        assert 'data-line="1"' in page.text and "缺货" in page.text
        declined = await post_form(
            http, f"/orders/{order['id']}/decline", {}, from_page=f"/orders/{order['id']}"
        )
        assert declined.headers["location"] == f"/orders/{order['id']}?done=declined"
    now = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert now["status"] in ("rejected", "refunded")


async def test_nobody_else_sees_the_order_page(app: Litestar) -> None:
    approved = await approved_prescription(app)
    order, _ = await paid_order(app, approved)
    stranger = await ready_patient(app)
    other_pharmacy = await reviewing_pharmacy(app)
    async with client_for(app) as http:
        await browser_session(http, stranger.account)
        assert (await get_page(http, f"/orders/{order['id']}")).status_code == 404
        assert (await get_page(http, f"/orders/{order['id']}/pay")).status_code == 404
    async with client_for(app) as http:
        await browser_session(http, other_pharmacy.pharmacist)
        assert (await get_page(http, f"/pharmacy/orders/{order['id']}")).status_code == 404
        accepted = await post_form(
            http, f"/pharmacy/orders/{order['id']}/accept", {}, from_page="/pharmacy/orders"
        )
        assert accepted.status_code == 404
    assert (await desk(app, approved, order["id"], "accept"))["status"] == "accepted"


async def test_the_desk_rejects_with_a_reason_and_a_note(app: Litestar) -> None:
    approved = await approved_prescription(app, with_metformin())
    order, _ = await paid_order(app, approved)
    async with client_for(app) as http:
        await browser_session(http, approved.pharmacy.pharmacist)
        desk_page = f"/pharmacy/orders/{order['id']}"
        shown = await get_page(http, desk_page)
        ids = re.findall(r'\bid="([^"]+)"', shown.text)
        assert len(ids) == len(set(ids)), "every field of the page's forms has its own id"
        reject = f"{desk_page}/reject"
        no_reason = await post_form(http, reject, {"reject_note": "本周无货"}, from_page=desk_page)
        assert no_reason.status_code == 422
        assert error_beside(no_reason.text, "reason")
        assert 'value="本周无货"' in no_reason.text, "what was typed is kept"
        rejected = await post_form(
            http, reject, {"reason": "out_of_stock", "reject_note": "本周无货"}, from_page=desk_page
        )
        assert rejected.headers["location"] == f"{desk_page}?done=rejected"
    now = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    assert now["status"] in ("rejected", "refunded") and now["reason"] == "out_of_stock"
    assert "本周无货" in [event["note"] for event in now["events"]]
