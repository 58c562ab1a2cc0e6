"""The review desk's pages over HTTP, without script: the list with its waiting times, one
prescription with approve and reject forms, a rejection without its reason shown beside the
field, in Chinese and English; the locale strings exist in both catalogs."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from medmarket.prescriptions.review_schemas import REJECT_REASONS
from medmarket.prescriptions.tests.helpers import ok, prescribe, visit_in_progress
from medmarket.prescriptions.tests.review_helpers import reviewing_pharmacy
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.pages import browser_session, error_beside, get_page, post_form

LOCALES = Path(__file__).parents[4] / "web" / "locales"


@pytest.mark.parametrize(
    ("locale", "title", "waiting", "approve"),
    [
        ("zh-CN", "处方审核工作台", "已等待", "审核通过"),
        ("en", "Prescription review desk", "Waiting", "Approve prescription"),
    ],
)
async def test_the_desk_lists_and_decides_without_script(
    app: Litestar, locale: str, title: str, waiting: str, approve: str
) -> None:
    visit = await visit_in_progress(app)
    own = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    first = await prescribe(app, visit)
    second = await prescribe(app, visit)
    await ok(app, "PATCH", "/api/me", own.pharmacist, {"locale": locale})
    async with client_for(app) as http:
        await browser_session(http, own.pharmacist)
        desk = await get_page(http, "/review-desk")
        assert desk.status_code == 200 and title in desk.text and waiting in desk.text
        assert desk.text.index(first["id"]) < desk.text.index(second["id"])
        assert visit.patient.account.email not in desk.text

        path = f"/review-desk/{first['id']}"
        entry = await get_page(http, path)
        assert entry.status_code == 200 and approve in entry.text
        missing = await post_form(
            http, path + "/reject", {"reason_code": "", "text": ""}, from_page=path
        )
        assert missing.status_code == 422 and error_beside(missing.text, "reason_code")
        other = await post_form(
            http, path + "/reject", {"reason_code": "other", "text": ""}, from_page=path
        )
        assert other.status_code == 422 and error_beside(other.text, "text")

        approved = await post_form(http, path + "/approve", {"note": ""}, from_page=path)
        assert (
            approved.status_code == 303
            and approved.headers["location"] == "/review-desk?done=approved"
        )
        rejected = await post_form(
            http,
            f"/review-desk/{second['id']}/reject",
            {"reason_code": "duplicate_therapy", "text": "重复"},
            from_page=f"/review-desk/{second['id']}",
        )
        assert rejected.status_code == 303
        assert first["id"] not in (await get_page(http, "/review-desk")).text
    seen: Any = await ok(app, "GET", f"/api/prescriptions/{second['id']}", visit.patient)
    assert seen["standing"] == "rejected"


def test_the_desks_strings_exist_in_both_languages() -> None:
    catalogs = [
        tomllib.loads((LOCALES / f"{name}.toml").read_text("utf-8")) for name in ("en", "zh-CN")
    ]
    for catalog in catalogs:
        assert set(catalog["review_reason"]) == set(REJECT_REASONS)
    assert set(catalogs[0]["review_desk"]) == set(catalogs[1]["review_desk"])
