"""The storefront's pages over HTTP: find an expert with the search's filters, sort and
"more" paging; a doctor's page with the visit's terms, free times by day and reviews."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar

from medmarket.catalog import pages as catalog_pages
from medmarket.tests.support.factories import HospitalHandle
from medmarket.tests.support.fixtures import SignUp
from medmarket.tests.support.pages import error_beside, field_value, get_page, post_form, text_of
from medmarket.tests.support.seed import Doctor, approved_doctor, hospital


def names_in(page: str) -> list[str]:
    return re.findall(r'<h2 id="doctor-[^"]+"><a href="/doctors/[^"]+">([^<]+)</a>', page)


@dataclass(frozen=True)
class Market:
    """Two doctors of one specialty no other test uses, at different prices."""

    specialty: str
    cheap: Doctor
    dear: Doctor
    hospital: HospitalHandle


@pytest.fixture(scope="module")
async def market(app: Litestar) -> Market:
    specialty = "测试科" + uuid.uuid4().hex[:6]
    place = await hospital(app, region="湖北省恩施州" + uuid.uuid4().hex[:4])
    cheap = await approved_doctor(
        app, full_name="张便宜", specialties=(specialty,), hospital=place, price_fen=3000
    )
    dear = await approved_doctor(
        app,
        full_name="李专家",
        specialties=(specialty,),
        hospital=place,
        price_fen=12000,
        languages=("zh", "en"),
        title="主治医师",
    )
    return Market(specialty=specialty, cheap=cheap, dear=dear, hospital=place)


async def test_find_an_expert_by_specialty_price_and_sort(
    client: httpx.AsyncClient, market: Market
) -> None:
    specialty = market.specialty
    page = (await get_page(client, f"/experts?specialty={specialty}&sort=price_asc")).text
    assert names_in(page) == ["张便宜", "李专家"]
    assert "¥30.00" in page and "¥120.00" in page
    assert field_value(page, "specialty") == specialty  # the filter stays chosen
    dear_first = (await get_page(client, f"/experts?specialty={specialty}&sort=price_desc")).text
    assert names_in(dear_first) == ["李专家", "张便宜"]
    cheap_only = (await get_page(client, f"/experts?specialty={specialty}&price_max=50")).text
    assert names_in(cheap_only) == ["张便宜"]
    english = (await get_page(client, f"/experts?specialty={specialty}&language=en")).text
    assert names_in(english) == ["李专家"]
    texted = (await get_page(client, "/experts?q=李专家")).text
    assert "李专家" in names_in(texted)


async def test_more_pages_follow_the_keyset(
    client: httpx.AsyncClient, market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_pages, "PAGE_SIZE", 1)
    first = await get_page(client, f"/experts?specialty={market.specialty}&sort=price_asc")
    assert names_in(first.text) == ["张便宜"]
    more = re.search(r'href="(/experts\?[^"]+)" data-more', first.text)
    assert more and "cursor=" in more[1] and "sort=price_asc" in more[1]
    second = (await get_page(client, more[1].replace("&amp;", "&"))).text
    assert names_in(second) == ["李专家"]
    assert "data-more" not in second  # the last page offers no more


async def test_unreadable_filters_are_named_and_kept(
    client: httpx.AsyncClient, market: Market
) -> None:
    response = await get_page(client, "/experts?price_min=abc&q=心内科")
    assert response.status_code == 422
    assert error_beside(response.text, "price_min") == "错误：请输入金额，例如 50 或 49.5。"
    assert field_value(response.text, "price_min") == "abc"
    assert field_value(response.text, "q") == "心内科"
    backwards = await get_page(client, "/experts?price_min=100&price_max=10")
    assert backwards.status_code == 422
    assert error_beside(backwards.text, "price_min") == "错误：最低诊费不能高于最高诊费。"
    broken = await get_page(client, "/experts?cursor=not-ours")
    assert broken.status_code == 422 and "这一页已经失效" in broken.text


async def test_a_doctors_page_shows_terms_free_times_and_reviews(
    client: httpx.AsyncClient, market: Market
) -> None:
    dear = market.dear
    page = (await get_page(client, f"/doctors/{dear.id}")).text
    text = text_of(page)
    assert "<h1>李专家" in page and "主治医师" in text
    assert "三级甲等" in text and market.hospital.name in text
    assert "¥120.00" in text and "30 分钟" in text
    assert "24 小时以前取消，全额退款" in text and "50%" in text
    slots = re.findall(r'href="/book/([0-9a-f-]{36})"', page)
    assert len(slots) >= 10
    assert "时间按中国时间显示" in text
    assert "暂无评价" in text
    await post_form(client, "/language", {"locale": "en", "next": "/"}, from_page="/")
    english = text_of((await get_page(client, f"/doctors/{dear.id}")).text)
    assert "Attending physician" in english and "Grade 3A" in english
    assert "Chinese" in english and "English" in english


async def test_a_doctor_who_is_not_listed_is_a_404_page(client: httpx.AsyncClient) -> None:
    response = await get_page(client, f"/doctors/{uuid.uuid4()}")
    assert response.status_code == 404 and "找不到这个页面" in response.text


async def test_free_times_are_shown_in_the_readers_zone_and_language(
    client: httpx.AsyncClient, market: Market, sign_up: SignUp
) -> None:
    """A patient in Berlin reading English sees the same slots at Berlin's wall-clock time,
    with money in the English way."""
    import datetime as dt
    import zoneinfo

    from medmarket.tests.support.pages import browser_session

    account = await sign_up("patient")
    await browser_session(client, account)
    saved = await post_form(
        client,
        "/account/preferences",
        {"locale": "en", "time_zone": "Europe/Berlin"},
        from_page="/account",
    )
    assert saved.status_code == 303
    dear = market.dear
    page = (await get_page(client, f"/doctors/{dear.id}")).text
    first = re.search(r'href="/book/[^"]+"[^>]*><time datetime="([^"]+)">([^<]+)</time>', page)
    assert first, "a free time is offered"
    moment = dt.datetime.fromisoformat(first[1])
    assert moment.utcoffset() == moment.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).utcoffset()
    hour = moment.hour % 12 or 12
    assert first[2].startswith(f"{hour}:{moment.minute:02d}")  # "9:30 AM", Berlin's clock
    text = text_of(page)
    assert "Times are shown in Central European" in text
    assert "CN¥120.00" in text
