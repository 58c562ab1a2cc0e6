"""Settlement statement pages over HTTP: a doctor's own month and a hospital's, each charge
and refund with the party's share and the totals in the reader's locale, a subtotal per
doctor for the hospital, a month chosen (or refused beside the field), and the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar

from medmarket.ledger.tests.helpers import visits_this_month
from medmarket.tests.support.factories import HospitalHandle
from medmarket.tests.support.fixtures import Account, client_for
from medmarket.tests.support.pages import (
    browser_session,
    error_beside,
    field_value,
    get_page,
    text_of,
)
from medmarket.tests.support.seed import Doctor


def this_month() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


@pytest.fixture
async def month_of_visits(app: Litestar, operator: Account) -> dict[str, Any]:
    return await visits_this_month(app, operator)


async def test_a_doctor_reads_their_month_and_downloads_it(
    client: httpx.AsyncClient, month_of_visits: dict[str, Any]
) -> None:
    doctor: Doctor = month_of_visits["doctor"]
    await browser_session(client, doctor.account)
    page = (await get_page(client, "/doctor/settlements")).text
    assert 'href="/doctor/settlements" aria-current="page"' in page  # in the navigation
    assert field_value(page, "period") == this_month()
    text = text_of(page)
    # 70% of each ¥100 visit, less 70% of the ¥20 refunded: ¥126.00.
    assert "您的收入 ¥126.00" in text
    assert "患者支付（扣除退款） ¥180.00" in text
    assert "收款笔数 2" in text and "退款笔数 1" in text
    assert "明细（3 笔）" in text
    assert text.count("¥70.00") == 2 and "-¥14.00" in text and "患者支付 -¥20.00" in text
    assert "视频问诊" in text and 'href="/doctor/visits/' in page

    csv_link = re.search(r'href="(/api/settlements/doctor\?[^"]+)" download', page)
    assert csv_link, "no CSV link"
    assert csv_link[1].replace("&amp;", "&") == (
        f"/api/settlements/doctor?period={this_month()}&format=csv&locale=zh-CN"
    )
    download = await client.get(csv_link[1].replace("&amp;", "&"))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[-1][0] == "合计" and rows[-1][-1] == "126.00"

    await client.patch("/api/me", json={"locale": "en"}, headers=doctor.headers)
    english = text_of((await get_page(client, "/doctor/settlements")).text)
    assert "Your earnings CN¥126.00" in english and "Transactions (3)" in english


async def test_a_hospital_admin_reads_the_hospitals_share_by_doctor(
    app: Litestar, client: httpx.AsyncClient, month_of_visits: dict[str, Any], sign_up: Any
) -> None:
    partner: HospitalHandle = month_of_visits["hospital"]
    await browser_session(client, partner.admin)
    hospital_page = (await get_page(client, f"/hospital/{partner.id}")).text
    path = f"/hospital/{partner.id}/settlements"
    assert f'href="{path}"' in hospital_page
    page = (await get_page(client, path)).text
    text = text_of(page)
    assert partner.name in text
    # 20% of each ¥100 visit, less 20% of the ¥20 refunded.
    assert "医院分成 ¥36.00" in text
    assert "按医生汇总 周 明远 收款 2 笔，退款 1 笔 医院分成 ¥36.00" in text
    assert f"/api/settlements/hospitals/{partner.id}?period={this_month()}" in page

    other_admin: Account = await sign_up("hospital_admin")
    async with client_for(app) as stranger:
        await browser_session(stranger, other_admin)
        refused = await get_page(stranger, path)
        assert refused.status_code == 404
        assert partner.name not in refused.text


async def test_a_month_is_chosen_and_a_bad_one_is_named(
    client: httpx.AsyncClient, month_of_visits: dict[str, Any]
) -> None:
    doctor: Doctor = month_of_visits["doctor"]
    await browser_session(client, doctor.account)
    bad = await get_page(client, "/doctor/settlements?period=2026-13")
    assert bad.status_code == 422
    assert error_beside(bad.text, "period") == "错误：请选择一个月份，例如 2026-03。"
    assert field_value(bad.text, "period") == "2026-13"  # kept as typed
    assert "<title>错误：" in bad.text

    quiet = (await get_page(client, "/doctor/settlements?period=2019-01")).text
    assert "2019年1月" in quiet and "这个月没有收款或退款。" in quiet
    assert "您的收入 ¥0.00" in text_of(quiet)
    assert 'href="/doctor/settlements?period=2018-12"' in quiet
    assert 'href="/doctor/settlements?period=2019-02"' in quiet
    # No month after the current one is offered.
    current = (await get_page(client, "/doctor/settlements")).text
    assert "下个月" not in current


async def test_a_doctor_without_a_profile_is_told_what_comes(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    newcomer: Account = await sign_up("doctor")
    await browser_session(client, newcomer)
    page = await get_page(client, "/doctor/settlements")
    assert page.status_code == 200
    assert "执业申请通过并开始接诊后" in page.text
