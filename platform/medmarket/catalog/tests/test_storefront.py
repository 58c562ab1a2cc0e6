"""The storefront: only approved doctors, filters, allow-listed sorting, keyset pages."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pytest
from litestar import Litestar

from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import approved_doctor, expect, hospital


@pytest.fixture(scope="module")
async def market(app: Litestar) -> dict[str, Any]:
    """A small market of its own: one hospital with a unique region, five doctors."""
    region = f"测试省{secrets.token_hex(3)}县"
    partner = await hospital(app, region=region, name=f"第一人民医院 {secrets.token_hex(3)}")
    doctors = {
        "zhang": await approved_doctor(
            app,
            full_name="张 三丰",
            specialties=("心内科",),
            hospital=partner,
            price_fen=8000,
            publish_days=2,
        ),
        "li": await approved_doctor(
            app,
            full_name="李 时珍",
            specialties=("中医科", "消化内科"),
            hospital=partner,
            price_fen=3000,
            publish_days=2,
            languages=("zh", "en"),
        ),
        "wang": await approved_doctor(
            app,
            full_name="王 清任",
            specialties=("心内科",),
            hospital=partner,
            price_fen=5000,
            publish_days=None,
        ),
        "zhao": await approved_doctor(
            app,
            full_name="赵 医生",
            specialties=("儿科",),
            hospital=partner,
            price_fen=12000,
            publish_days=2,
        ),
        "hidden": await approved_doctor(
            app,
            full_name="隐 藏",
            specialties=("心内科",),
            hospital=partner,
            price_fen=100,
            publish_days=2,
        ),
    }
    await app.state.services.db.execute(
        "UPDATE doctors SET status = 'suspended' WHERE id = $1", uuid.UUID(doctors["hidden"].id)
    )
    # A hospital in another region, with a doctor whom every search above must leave out.
    elsewhere_region = f"别处省{secrets.token_hex(3)}县"
    elsewhere = await hospital(
        app, region=elsewhere_region, name=f"第二人民医院 {secrets.token_hex(3)}"
    )
    doctors["qian"] = await approved_doctor(
        app, full_name="钱 乙", specialties=("儿科",), hospital=elsewhere, publish_days=2
    )
    return {
        "region": region,
        "hospital_id": partner.id,
        "elsewhere": elsewhere,
        "elsewhere_region": elsewhere_region,
        "doctors": doctors,
    }


def names(page: dict[str, Any]) -> list[str]:
    return [d["full_name"] for d in page["doctors"]]


async def test_only_approved_doctors_are_listed_and_filters_combine(
    app: Litestar, market: dict[str, Any]
) -> None:
    region = market["region"]
    async with client_for(app) as http:
        everyone = await expect(
            http.get("/api/doctors", params={"region": region, "sort": "price_asc"})
        )
        assert names(everyone) == ["李 时珍", "王 清任", "张 三丰", "赵 医生"]
        cardio = await expect(
            http.get("/api/doctors", params={"region": region, "specialty": "心内科"})
        )
        assert set(names(cardio)) == {"张 三丰", "王 清任"}
        cheap = await expect(
            http.get(
                "/api/doctors",
                params={
                    "region": region,
                    "price_min": 2000,
                    "price_max": 6000,
                    "sort": "price_desc",
                },
            )
        )
        assert names(cheap) == ["王 清任", "李 时珍"]
        english = await expect(
            http.get("/api/doctors", params={"region": region, "language": "en"})
        )
        assert names(english) == ["李 时珍"]
        by_name = await expect(http.get("/api/doctors", params={"region": region, "q": "时珍"}))
        assert names(by_name) == ["李 时珍"]
        by_specialty = await expect(
            http.get("/api/doctors", params={"region": region, "q": "消化"})
        )
        assert names(by_specialty) == ["李 时珍"]
        by_one_char = await expect(http.get("/api/doctors", params={"region": region, "q": "赵"}))
        assert names(by_one_char) == ["赵 医生"]
        # Typed as Chinese names are, without the record's space.
        whole_name = await expect(http.get("/api/doctors", params={"q": "张三丰"}))
        assert "张 三丰" in names(whole_name)
        spaced = await expect(http.get("/api/doctors", params={"region": region, "q": "张 三丰"}))
        assert names(spaced) == ["张 三丰"]
        card = by_name["doctors"][0]
        assert card["hospital"]["level"] == "三级甲等" and card["price_fen"] == 3000
        assert card["next_free_at"] is not None
        hidden = market["doctors"]["hidden"]
        assert (await http.get(f"/api/doctors/{hidden.id}")).status_code == 404


async def test_region_and_hospital_each_narrow_the_market(
    app: Litestar, market: dict[str, Any]
) -> None:
    elsewhere = market["elsewhere"]
    async with client_for(app) as http:
        here = await expect(
            http.get("/api/doctors", params={"region": market["region"], "limit": 50})
        )
        assert "钱 乙" not in names(here) and len(names(here)) == 4
        there = await expect(
            http.get("/api/doctors", params={"region": market["elsewhere_region"], "limit": 50})
        )
        assert names(there) == ["钱 乙"]
        at_partner = await expect(
            http.get("/api/doctors", params={"hospital_id": market["hospital_id"], "limit": 50})
        )
        assert sorted(names(at_partner)) == ["张 三丰", "李 时珍", "王 清任", "赵 医生"]
        at_elsewhere = await expect(
            http.get("/api/doctors", params={"hospital_id": elsewhere.id, "limit": 50})
        )
        assert names(at_elsewhere) == ["钱 乙"]
        # Both at once: a hospital outside the region leaves nobody.
        neither = await expect(
            http.get(
                "/api/doctors",
                params={"region": market["region"], "hospital_id": elsewhere.id},
            )
        )
        assert names(neither) == []


async def test_a_day_with_free_slots_and_soonest_first(
    app: Litestar, market: dict[str, Any]
) -> None:
    region = market["region"]
    async with client_for(app) as http:
        soonest = await expect(
            http.get("/api/doctors", params={"region": region, "sort": "soonest"})
        )
        # The doctor with nothing published comes last.
        assert names(soonest)[-1] == "王 清任"
        assert soonest["doctors"][-1]["next_free_at"] is None
        day = soonest["doctors"][0]["next_free_at"][:10]
        that_day = await expect(
            http.get("/api/doctors", params={"region": region, "date": day, "tz": "UTC"})
        )
        assert "王 清任" not in names(that_day) and len(names(that_day)) == 3
        long_ago = await expect(
            http.get("/api/doctors", params={"region": region, "date": "2020-01-01"})
        )
        assert names(long_ago) == []


async def test_keyset_pages_cover_everything_once(app: Litestar, market: dict[str, Any]) -> None:
    region = market["region"]
    async with client_for(app) as http:
        for sort in ("rating", "price_asc", "price_desc", "soonest", "reviews"):
            seen: list[str] = []
            cursor = None
            while True:
                params = {"region": region, "sort": sort, "limit": 1}
                if cursor:
                    params["cursor"] = cursor
                page = await expect(http.get("/api/doctors", params=params))
                seen += names(page)
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert sorted(seen) == ["张 三丰", "李 时珍", "王 清任", "赵 医生"], sort
            assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "name; DROP TABLE doctors"}, "sort"),
        ({"limit": 500}, "limit"),
        ({"price_min": -1}, "price_min"),
        ({"price_min": 500, "price_max": 100}, "price_min"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"date": "tomorrow"}, "date"),
        ({"date": "2026-12-01", "tz": "Nowhere/City"}, "tz"),
        ({"q": "x" * 101}, "q"),
    ],
)
async def test_bad_search_parameters_are_named(
    app: Litestar, params: dict[str, Any], field: str
) -> None:
    async with client_for(app) as http:
        response = await http.get("/api/doctors", params=params)
    assert response.status_code in (400, 422)
    assert response.json()["errors"][0]["field"] == field


async def test_doctor_page_and_facets(app: Litestar, market: dict[str, Any]) -> None:
    zhang = market["doctors"]["zhang"]
    async with client_for(app) as http:
        page = await expect(http.get(f"/api/doctors/{zhang.id}"))
        assert page["doctor"]["full_name"] == "张 三丰"
        assert page["offerings"][0]["kind"] == "video"
        assert page["offerings"][0]["slot_minutes"] == 30
        assert page["time_zone"] == "Asia/Shanghai"
        facets = await expect(http.get("/api/catalog/facets"))
        assert {"心内科", "中医科", "儿科"} <= set(facets["specialties"])
        assert market["region"] in facets["regions"]
        assert (await http.get(f"/api/doctors/{uuid.uuid4()}")).status_code == 404
