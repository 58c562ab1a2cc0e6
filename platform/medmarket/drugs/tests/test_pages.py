"""The operators' catalog pages over HTTP, in Chinese and English, without script: search
and browse the catalog, add a drug (errors beside their fields, a duplicate named), edit,
retire and restore it; other roles are refused."""

from __future__ import annotations

import re
import typing
from typing import Any

import httpx
import pytest

from medmarket.drugs.schemas import DosageForm, Route, SpecialClass
from medmarket.drugs.tests.helpers import unique_names
from medmarket.pages.assets import locate_web_dir
from medmarket.pages.i18n import SUPPORTED_LOCALES, Catalogs
from medmarket.tests.support.fixtures import Account
from medmarket.tests.support.pages import (
    browser_session,
    error_beside,
    field_value,
    get_page,
    post_form,
    text_of,
)


def form_for(**changes: str) -> dict[str, str]:
    zh, en = unique_names()
    values = {
        "generic_name_zh": zh,
        "generic_name_en": en,
        "aliases": "别名一\nAlias Two",
        "dosage_form": "capsule",
        "strength": "0.25",
        "unit": "g",
        "route": "oral",
        "atc_code": "j01ca04",  # typed in lower case: the page writes it as WHO does
        "prescription_only": "yes",
        "special_class": "",
    }
    values.update(changes)
    return values


def h1(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert match, "the page has no h1"
    return text_of(match[1])


async def test_the_catalog_page_in_chinese_searches_and_browses(
    client: httpx.AsyncClient, operator: Account
) -> None:
    await browser_session(client, operator)
    page = await get_page(client, "/operator/drugs")
    assert page.status_code == 200
    assert h1(page.text) == "药品目录"
    assert 'href="/operator/drugs" aria-current="page"' in page.text  # the header's link
    assert "阿卡波糖 · 片剂 50 mg" in text_of(page.text)  # A to Z by pinyin: akabotang first
    assert "data-more" in page.text  # more than a page
    found = text_of((await get_page(client, "/operator/drugs?q=aldp")).text)
    assert "氨氯地平 · 片剂 5 mg" in found and "C08CA01" in found
    narcotic = text_of((await get_page(client, "/operator/drugs?q=吗啡")).text)
    assert "麻醉药品" in narcotic and "处方药" in narcotic
    nothing = text_of((await get_page(client, "/operator/drugs?q=zzzzqqq")).text)
    assert "没有找到匹配的药品。" in nothing
    too_long = await get_page(client, "/operator/drugs?q=" + "x" * 60)
    assert too_long.status_code == 422
    assert error_beside(too_long.text, "q") == "错误：内容太长了。"


async def test_the_catalog_page_in_english(client: httpx.AsyncClient, operator: Account) -> None:
    await client.patch("/api/me", json={"locale": "en"}, headers=operator.headers)
    try:
        await browser_session(client, operator)
        page = await get_page(client, "/operator/drugs?q=amlodipine")
        assert page.status_code == 200
        assert '<html lang="en">' in page.text
        assert h1(page.text) == "Drug catalog"
        shown = text_of(page.text)
        assert "amlodipine · tablets 5 mg" in shown and "Prescription only" in shown
        assert "Add a drug" in shown and "Generic name (Chinese)" in shown
        retired = await get_page(client, "/operator/drugs?show=retired")
        assert retired.status_code == 200
    finally:
        await client.patch("/api/me", json={"locale": "zh-CN"}, headers=operator.headers)


async def test_an_operator_adds_edits_retires_and_restores_a_drug_on_the_pages(
    client: httpx.AsyncClient, operator: Account
) -> None:
    await browser_session(client, operator)
    missing = await post_form(
        client, "/operator/drugs", form_for(generic_name_zh="", strength="", atc_code="C8CA1")
    )
    assert missing.status_code == 422
    assert error_beside(missing.text, "generic_name_zh") == "错误：请填写此项。"
    assert error_beside(missing.text, "strength") == "错误：请填写此项。"
    assert field_value(missing.text, "atc_code") == "C8CA1"  # what was typed is kept
    bad_code = await post_form(client, "/operator/drugs", form_for(atc_code="C8CA1"))
    assert bad_code.status_code == 422
    assert (error_beside(bad_code.text, "atc_code") or "").startswith("错误：请填写 WHO ATC")
    special = await post_form(
        client, "/operator/drugs", form_for(special_class="narcotic", prescription_only="")
    )
    assert special.status_code == 422
    assert error_beside(special.text, "prescription_only") == "错误：特殊管理药品必须是处方药。"

    values = form_for()
    created = await post_form(client, "/operator/drugs", values)
    assert created.status_code == 303, created.text
    drug_path = created.headers["location"].split("?")[0]
    page = await get_page(client, created.headers["location"])
    assert "药品已添加到目录。" in text_of(page.text)
    assert field_value(page.text, "atc_code") == "J01CA04"
    assert field_value(page.text, "aliases") == "别名一\nAlias Two"
    assert "J › J01 › J01C › J01CA › J01CA04" in text_of(page.text)

    twice = await post_form(client, "/operator/drugs", {**values, "generic_name_en": "other x"})
    assert twice.status_code == 409
    assert (error_beside(twice.text, "generic_name_zh") or "").startswith(
        "错误：目录里已经有这个通用名、剂型和规格的药品了"
    )

    saved = await post_form(client, drug_path, {**values, "strength": "0.5"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
    assert field_value((await get_page(client, drug_path)).text, "strength") == "0.5"

    retired = await post_form(client, drug_path + "/retire", {}, from_page=drug_path)
    assert retired.status_code == 303
    shown = text_of((await get_page(client, retired.headers["location"])).text)
    assert "药品已停用" in shown and "恢复使用" in shown
    twice = await post_form(client, drug_path + "/retire", {}, from_page=drug_path)
    assert twice.status_code == 409 and "这个药品已经停用了。" in text_of(twice.text)
    listed = text_of(
        (await get_page(client, f"/operator/drugs?q={values['generic_name_zh']}")).text
    )
    assert values["generic_name_zh"] not in listed
    listed = text_of(
        (await get_page(client, f"/operator/drugs?q={values['generic_name_zh']}&show=all")).text
    )
    assert values["generic_name_zh"] in listed and "已停用" in listed
    restored = await post_form(client, drug_path + "/restore", {}, from_page=drug_path)
    assert restored.status_code == 303 and restored.headers["location"].endswith("done=restored")


@pytest.mark.parametrize("role", ["doctor", "pharmacist", "patient"])
async def test_other_roles_do_not_see_the_operators_pages(
    client: httpx.AsyncClient, sign_up: Any, role: str
) -> None:
    account = await sign_up(role)
    await browser_session(client, account)
    page = await get_page(client, "/operator/drugs")
    assert page.status_code == 403
    assert "<h1" in page.text  # the error page, not problem+json


def test_every_form_route_and_class_has_words_in_both_languages() -> None:
    catalogs = Catalogs.load(locate_web_dir("") / "locales", "zh-CN", strict=True)
    expected = [f"drug_form.{value}" for value in typing.get_args(DosageForm)]
    expected += [f"drug_route.{value}" for value in typing.get_args(Route)]
    expected += [f"drug_class.{value}" for value in typing.get_args(SpecialClass)]
    for locale in SUPPORTED_LOCALES:
        assert [key for key in expected if key not in catalogs.messages[locale]] == []
