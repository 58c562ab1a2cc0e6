"""The doctor's schedule editor over HTTP: fee and terms, weekly hours and exceptions with
the refused row named, publishing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
from litestar import Litestar

from medmarket.tests.support.factories import draft_doctor, hospital_with_demo_adapter, platform_day
from medmarket.tests.support.fixtures import Account
from medmarket.tests.support.pages import (
    browser_session,
    error_beside,
    field_value,
    get_page,
    post_form,
    text_of,
)
from medmarket.tests.support.seed import approved_doctor


def row_values(page: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" type="time" value="([^"]*)"', page)


async def test_fee_hours_exceptions_and_publishing(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    doctor = await approved_doctor(app, price_fen=5000)
    await browser_session(client, doctor.account)
    page = (await get_page(client, "/doctor/schedule")).text
    assert field_value(page, "price") == "50"
    assert row_values(page, "starts_at")[:7] == ["00:00"] * 7  # the seeded hours, one per day
    assert "已发布的时间" in page and "个空余" in page

    bad = await post_form(
        client,
        "/doctor/schedule/offering",
        {
            "price": "abc",
            "slot_minutes": "30",
            "free_cancel_hours": "500",
            "late_cancel_refund_percent": "50",
        },
    )
    assert bad.status_code == 422
    assert error_beside(bad.text, "price") == "错误：请输入金额，例如 50 或 49.5。"
    assert field_value(bad.text, "free_cancel_hours") == "500"
    hours = await post_form(
        client,
        "/doctor/schedule/offering",
        {
            "price": "80",
            "slot_minutes": "30",
            "free_cancel_hours": "500",
            "late_cancel_refund_percent": "50",
        },
    )
    assert error_beside(hours.text, "free_cancel_hours") == "错误：请填写 0 到 168 之间的整数。"
    saved = await post_form(
        client,
        "/doctor/schedule/offering",
        {
            "price": "80",
            "slot_minutes": "20",
            "free_cancel_hours": "12",
            "late_cancel_refund_percent": "40",
        },
    )
    assert saved.status_code == 303
    tomorrow = (platform_day() + dt.timedelta(days=1)).isoformat()
    rows = [
        ("time_zone", "Asia/Shanghai"),
        ("weekday", "1"),
        ("starts_at", "09:00"),
        ("ends_at", "12:00"),
        ("weekday", "3"),
        ("starts_at", "14:00"),
        ("ends_at", "13:00"),
        ("weekday", ""),
        ("starts_at", ""),
        ("ends_at", ""),
        ("exception_on", tomorrow),
        ("exception_kind", "unavailable"),
        ("exception_starts", ""),
        ("exception_ends", ""),
    ]
    refused = await post_form(client, "/doctor/schedule/availability", rows)
    assert refused.status_code == 422
    assert error_beside(refused.text, "weekly[1]") == (
        "错误：请选择星期并填写开始和结束时间，结束要晚于开始。"
    )
    assert error_beside(refused.text, "weekly[0]") is None
    assert row_values(refused.text, "starts_at")[:2] == ["09:00", "14:00"]  # as typed
    fixed = [(k, "15:00" if (k, v) == ("ends_at", "13:00") else v) for k, v in rows]
    accepted = await post_form(client, "/doctor/schedule/availability", fixed)
    assert accepted.status_code == 303
    availability = (await client.get("/api/doctor/availability")).json()
    assert [w["weekday"] for w in availability["weekly"]] == [1, 3]
    assert availability["exceptions"][0]["on_date"] == tomorrow

    published = await post_form(client, "/doctor/schedule/publish", {"days": "7"})
    assert published.status_code == 303
    shown = text_of((await get_page(client, published.headers["location"])).text)
    assert re.search(r"已发布 .+ 至 .+：新增 \d+ 个时段，撤下 \d+ 个。", shown)
    too_many = await post_form(client, "/doctor/schedule/publish", {"days": "900"})
    assert error_beside(too_many.text, "days") == "错误：请填写 1 到 90 之间的天数。"


async def test_only_an_approved_doctor_publishes(app: Litestar, client: httpx.AsyncClient) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital)
    account = Account(
        id=doctor.user_id,
        email=doctor.email,
        role="doctor",
        password=doctor.password,
        token=doctor.token,
    )
    await browser_session(client, account)
    page = text_of((await get_page(client, "/doctor/schedule")).text)
    assert "审核通过后才能发布" in page
    await post_form(
        client,
        "/doctor/schedule/offering",
        {
            "price": "60",
            "slot_minutes": "30",
            "free_cancel_hours": "24",
            "late_cancel_refund_percent": "50",
        },
    )
    refused = await post_form(client, "/doctor/schedule/publish", {"days": "7"})
    assert refused.status_code == 409
    assert error_beside(refused.text, "days") == "错误：审核通过后才能发布可预约时间。"


async def test_a_doctor_who_has_not_applied_is_sent_to_apply(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    await browser_session(client, await sign_up("doctor"))
    response = await get_page(client, "/doctor/schedule")
    assert response.status_code == 303 and response.headers["location"] == "/doctor/application"
