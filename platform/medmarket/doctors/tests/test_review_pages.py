"""Operators' review pages over HTTP: the queue of applications with its filters and paging,
one application with the checks' evidence, and decisions with a reason the doctor reads."""

from __future__ import annotations

import re

import httpx
import pytest
from litestar import Litestar

from medmarket.doctors import review_pages
from medmarket.tests.support.factories import (
    DoctorAccount,
    add_staff,
    draft_doctor,
    hospital_with_demo_adapter,
    staff_record,
    submit,
)
from medmarket.tests.support.fixtures import Account, client_for
from medmarket.tests.support.pages import (
    browser_session,
    error_beside,
    get_page,
    post_form,
    text_of,
)


async def test_the_queue_filters_pages_and_leads_to_a_decision(
    app: Litestar, client: httpx.AsyncClient, operator: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    waiting = []
    for name in ("甲 医生", "乙 医生"):
        doctor = await draft_doctor(app, hospital, full_name=name)
        if name == "乙 医生":  # known, but when practice began is not on record
            record = staff_record(
                licence_number=doctor.licence_number, full_name=name, practice_started_on=None
            )
            await add_staff(app, hospital, record)
        # 甲 is not in the registry at all.
        assert (await submit(app, doctor))["status"] == "needs_review"
        waiting.append(doctor)
    await browser_session(client, operator)
    monkeypatch.setattr(review_pages, "QUEUE_SIZE", 1)
    first = (await get_page(client, f"/operator/applications?hospital_id={hospital.id}")).text
    assert "乙 医生" in text_of(first) and "甲 医生" not in text_of(first)  # newest first
    more = re.search(r'href="(/operator/applications\?[^"]+)" data-more', first)
    assert more
    second = text_of((await get_page(client, more[1].replace("&amp;", "&"))).text)
    assert "甲 医生" in second
    drafts = text_of(
        (
            await get_page(client, f"/operator/applications?status=draft&hospital_id={hospital.id}")
        ).text
    )
    assert "没有符合条件的申请" in drafts
    bad = await get_page(client, "/operator/applications?hospital_id=nope")
    assert error_beside(bad.text, "hospital_id") == "错误：请选择一家医院。"

    target = waiting[0]
    review = (await get_page(client, f"/review/doctors/{target.doctor_id}")).text
    shown = text_of(review)
    assert "待人工审核" in shown and "执业证书 未通过" in shown and "医院返回的依据" in shown
    # The licence was not confirmed: rejecting or asking again, never approving.
    for action in ("驳回", "重新核验"):
        assert action in shown
    assert f"{path_of(target)}/approve" not in review and "有核验项未通过，不能批准" in shown
    open_question = (await get_page(client, path_of(waiting[1]))).text
    assert f"{path_of(waiting[1])}/approve" in open_question
    assert "不能批准" not in text_of(open_question)
    path = f"/review/doctors/{target.doctor_id}"
    empty = await post_form(client, f"{path}/reject", {"reason": ""}, from_page=path)
    assert empty.status_code == 422 and error_beside(empty.text, "reason")
    rejected = await post_form(
        client, f"{path}/reject", {"reason": "证书照片不清晰"}, from_page=path
    )
    assert rejected.headers["location"] == f"{path}?done=reject"
    async with client_for(app) as as_doctor:
        own = (await as_doctor.get("/api/doctor/application", headers=target.headers)).json()
    assert own["status"] == "rejected" and own["status_reason"] == "证书照片不清晰"
    approved = await post_form(
        client,
        f"/review/doctors/{waiting[1].doctor_id}/approve",
        {"reason": "电话核实"},
        from_page=f"/review/doctors/{waiting[1].doctor_id}",
    )
    assert approved.status_code == 303
    assert "已批准" in text_of((await get_page(client, approved.headers["location"])).text)


def path_of(doctor: DoctorAccount) -> str:
    return f"/review/doctors/{doctor.doctor_id}"
