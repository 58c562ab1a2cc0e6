"""The doctor's reviews page over HTTP: reviews of their visits with dates in the doctor's
language and time zone, one reply to each (refused beside the field, kept as typed), the
reply shown on the public doctor's page and the patient's visit, and the unanswered ones on
their own."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
from litestar import Litestar

from medmarket.pages.formatting import Formatter
from medmarket.reviews.tests.helpers import reviewed_visit
from medmarket.tests.support.fixtures import Account, client_for
from medmarket.tests.support.pages import browser_session, get_page, post_form, text_of
from medmarket.tests.support.seed import approved_doctor, expect, ready_patient


def error_of(page: str, review_id: str) -> str | None:
    found = re.search(rf'id="f-reply-{review_id}-error">(.*?)</p>', page, re.S)
    return text_of(found[1]) if found else None


def reply_box(page: str, review_id: str) -> str | None:
    found = re.search(rf'<textarea id="f-reply-{review_id}"[^>]*>(.*?)</textarea>', page, re.S)
    return found[1] if found else None


async def test_a_doctor_replies_once_and_the_reply_is_public(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    doctor = await approved_doctor(app, publish_days=2)
    patient = await ready_patient(app, real_name="赵 红梅")
    review = await reviewed_visit(app, doctor, patient, 4, "讲解很耐心，就是等了十分钟")
    await browser_session(client, doctor.account)
    page = (await get_page(client, "/doctor/reviews")).text
    assert 'href="/doctor/reviews" aria-current="page"' in page  # in the doctor's navigation
    assert "讲解很耐心，就是等了十分钟" in page and "赵**" in page
    assert "平均 4 分，共 1 条评价" in text_of(page) and "1 条待回复" in text_of(page)

    path = f"/doctor/reviews/{review['id']}/reply"
    empty = await post_form(client, path, {"reply": "   ", "at": ""}, from_page="/doctor/reviews")
    assert empty.status_code == 422
    assert error_of(empty.text, review["id"]) == "错误：请写下回复内容。"
    assert "<title>错误：" in empty.text
    too_long = "谢" * 2001
    long_reply = await post_form(
        client, path, {"reply": too_long, "at": ""}, from_page="/doctor/reviews"
    )
    assert long_reply.status_code == 422
    assert error_of(long_reply.text, review["id"]) == "错误：回复不能超过 2000 个字。"
    assert reply_box(long_reply.text, review["id"]) == too_long  # kept as typed

    replied = await post_form(
        client,
        path,
        {"reply": "感谢反馈，我们会改进候诊安排。", "at": ""},
        from_page="/doctor/reviews",
    )
    assert replied.status_code == 303
    assert replied.headers["location"] == f"/doctor/reviews?done=replied#review-{review['id']}"
    after = (await get_page(client, "/doctor/reviews?done=replied")).text
    assert "回复已发布" in after and "感谢反馈，我们会改进候诊安排。" in after
    assert reply_box(after, review["id"]) is None  # no second reply offered

    again = await post_form(
        client, path, {"reply": "再补充一句", "at": ""}, from_page="/doctor/reviews"
    )
    assert again.status_code == 409
    assert "这条评价您已经回复过了" in text_of(again.text)
    assert "再补充一句" not in again.text

    public = (await get_page(client, f"/doctors/{doctor.id}")).text
    assert "医生回复： 感谢反馈，我们会改进候诊安排。" in text_of(public)
    async with client_for(app) as as_patient:  # and under the review on the patient's visit
        await browser_session(as_patient, patient.account)
        visit = (await get_page(as_patient, f"/visits/{review['booking_id']}")).text
        assert "医生回复： 感谢反馈，我们会改进候诊安排。" in text_of(visit)


async def test_dates_are_in_the_doctors_language_and_time_zone(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    doctor = await approved_doctor(app, publish_days=2)
    review = await reviewed_visit(app, doctor, await ready_patient(app), 5, "")
    changed = await client.patch(
        "/api/me", json={"locale": "en", "time_zone": "America/Los_Angeles"}, headers=doctor.headers
    )
    assert changed.status_code == 200, changed.text
    await browser_session(client, doctor.account)
    page = (await get_page(client, "/doctor/reviews")).text
    written = dt.datetime.fromisoformat(review["created_at"])
    shown = Formatter("en", "America/Los_Angeles").datetime(written)
    assert " ".join(shown.split()) in text_of(page)  # text_of folds the narrow space
    assert "Patients&#39; reviews" in page or "Patients' reviews" in page
    assert "The patient gave a rating without writing anything." in page


async def test_unanswered_reviews_on_their_own_and_others_cannot_reply(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    doctor = await approved_doctor(app, publish_days=2)
    patient = await ready_patient(app)
    first = await reviewed_visit(app, doctor, patient, 3, "第一次", hours_ago=2)
    second = await reviewed_visit(app, doctor, patient, 5, "第二次")
    async with client_for(app) as http:
        await expect(
            http.post(
                f"/api/doctor/reviews/{first['id']}/reply",
                headers=doctor.headers,
                json={"reply": "谢谢"},
            )
        )
    await browser_session(client, doctor.account)
    everything = (await get_page(client, "/doctor/reviews")).text
    assert everything.index("第二次") < everything.index("第一次")  # newest first
    waiting = (await get_page(client, "/doctor/reviews?show=unanswered")).text
    assert "第二次" in waiting and "第一次" not in waiting

    other = await approved_doctor(app, publish_days=None)
    async with client_for(app) as as_other:
        await browser_session(as_other, other.account)
        refused = await post_form(
            as_other,
            f"/doctor/reviews/{second['id']}/reply",
            {"reply": "冒充", "at": ""},
            from_page="/doctor/reviews",
        )
        assert refused.status_code == 404
        assert "找不到这个页面" in refused.text
        assert "第二次" not in (await get_page(as_other, "/doctor/reviews")).text

    newcomer: Account = await sign_up("doctor")
    async with client_for(app) as as_newcomer:
        await browser_session(as_newcomer, newcomer)
        empty = await get_page(as_newcomer, "/doctor/reviews")
        assert empty.status_code == 200
        assert "您还没有医生主页" in empty.text
