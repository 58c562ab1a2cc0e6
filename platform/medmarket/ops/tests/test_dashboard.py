"""The operators' dashboard: today's figures move with what happens today, and the page
shows them with every plugin's health."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import httpx
from litestar import Litestar

from medmarket.ops.dashboard import TodayFigures, today_figures
from medmarket.tests.support.factories import draft_doctor, hospital_with_demo_adapter, submit
from medmarket.tests.support.fixtures import Account, client_for
from medmarket.tests.support.pages import browser_session, get_page, text_of
from medmarket.tests.support.payments import deliver_outbox
from medmarket.tests.support.seed import (
    approved_doctor,
    expect,
    free_slots,
    hold,
    pay,
    ready_patient,
)

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")


async def figures(app: Litestar) -> TodayFigures:
    return await today_figures(app.state.services.db, dt.datetime.now(ZONE).date(), ZONE)


async def test_todays_figures_count_bookings_payments_refunds_and_applications(
    app: Litestar,
) -> None:
    before = await figures(app)
    doctor = await approved_doctor(app, price_fen=7300, publish_days=4)
    patient = await ready_patient(app)
    async with client_for(app) as http:
        slots = await free_slots(http, doctor.id, dt.timedelta(hours=30))
        booking = await hold(http, patient, slots[0]["id"])
        await pay(app, patient, booking["id"])
        await expect(
            http.post(f"/api/bookings/{booking['id']}/cancel", headers=patient.headers, json={})
        )
    await deliver_outbox(app)  # the refund goes to the gateway
    hospital = await hospital_with_demo_adapter(app)
    await submit(app, await draft_doctor(app, hospital))  # unknown to the hospital: waits
    after = await figures(app)
    assert after.bookings_made - before.bookings_made == 1
    assert after.bookings_confirmed - before.bookings_confirmed == 1
    assert after.payments - before.payments == 1
    paid = {m.currency: m.amount for m in after.paid}["CNY"]
    paid_before = {m.currency: m.amount for m in before.paid}.get("CNY", 0)
    assert paid - paid_before == 7300
    assert after.refunds - before.refunds == 1
    refunded_before = {m.currency: m.amount for m in before.refunded}.get("CNY", 0)
    assert {m.currency: m.amount for m in after.refunded}["CNY"] - refunded_before == 7300
    assert after.applications_waiting - before.applications_waiting == 1
    assert after.hospitals_active - before.hospitals_active == 2


async def test_the_dashboard_page_shows_figures_and_plugin_health(
    client: httpx.AsyncClient, operator: Account
) -> None:
    await browser_session(client, operator)
    page = text_of((await get_page(client, "/operator")).text)
    for heading in (
        "运营工作台",
        "今日新预约",
        "今日收款",
        "今日退款",
        "待审核的医生申请",
        "插件状态",
    ):
        assert heading in page
    # The built-in Stripe gateway, asked for its health (localstripe answers).
    assert "payment gateway:stripe" in page
    health = page.split("插件状态", 1)[1].split("已安装的插件", 1)[0]
    assert "payment gateway:stripe" in health and "正常" in health
