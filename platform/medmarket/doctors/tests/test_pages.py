"""Doctors' application pages over HTTP: the form that names each bad field, documents
uploaded without script, submitting (the hospital answers at once), the checks' evidence and
the history."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar

from medmarket.tests.support.factories import (
    PDF_BYTES,
    PNG_BYTES,
    add_staff,
    hospital_with_demo_adapter,
    staff_record,
    unique_licence_number,
)
from medmarket.tests.support.fixtures import Account
from medmarket.tests.support.pages import (
    HTML,
    browser_session,
    csrf_of,
    error_beside,
    field_value,
    get_page,
    post_form,
    text_of,
)


async def upload(http: httpx.AsyncClient, kind: str, name: str, content: bytes) -> httpx.Response:
    page = await get_page(http, "/doctor/application")
    return await http.post(
        "/doctor/application/documents",
        data={"_csrf": csrf_of(page.text), "kind": kind},
        files={"file": (name, content)},
        headers=HTML,
    )


async def test_a_doctor_applies_uploads_submits_and_sees_the_evidence(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    licence = unique_licence_number()
    await add_staff(
        app,
        hospital,
        staff_record(licence_number=licence, full_name="林 医生", title="主治医师"),
    )
    doctor: Account = await sign_up("doctor", display_name="林 医生")
    await browser_session(client, doctor)
    blank = (await get_page(client, "/doctor/application")).text
    assert field_value(blank, "full_name") == "林 医生"
    assert "请先保存执业信息" in blank

    typed = {
        "hospital_id": hospital.id,
        "full_name": "林 医生",
        "licence_number": "x",
        "title": "主治医师",
        "specialties": "",
        "languages": "zh",
        "time_zone": "Asia/Shanghai",
    }
    bad = await post_form(client, "/doctor/application", typed)
    assert bad.status_code == 422
    assert error_beside(bad.text, "specialties") == "错误：请填写此项。"
    assert field_value(bad.text, "licence_number") == "x"
    worse = await post_form(client, "/doctor/application", typed | {"specialties": "心内科"})
    assert error_beside(worse.text, "licence_number") == (
        "错误：请按证书上印的填写：5 到 40 位字母、数字或“-”。"
    )
    saved = await post_form(
        client,
        "/doctor/application",
        [
            *(typed | {"licence_number": licence, "specialties": "心内科、高血压"}).items(),
            ("languages", "en"),
        ],
    )
    assert saved.status_code == 303, saved.text
    mine = (await client.get("/api/doctor/application")).json()
    assert mine["specialties"] == ["心内科", "高血压"] and mine["languages"] == ["zh", "en"]

    early = await post_form(
        client, "/doctor/application/submit", {}, from_page="/doctor/application"
    )
    assert early.status_code == 422
    assert "提交前请上传医师执业证书和身份证件。" in early.text

    not_a_pdf = await upload(client, "licence", "licence.pdf", b"just text, not a PDF")
    assert not_a_pdf.status_code == 415
    assert error_beside(not_a_pdf.text, "file") == (
        "错误：这个文件不是 PDF、JPG 或 PNG（按文件内容判断，与文件名无关）。"
    )
    assert (await upload(client, "licence", "licence.pdf", PDF_BYTES)).status_code == 303
    assert (await upload(client, "identity", "id.png", PNG_BYTES)).status_code == 303
    listed = text_of((await get_page(client, "/doctor/application")).text)
    assert "医师执业证书 licence.pdf" in listed and "身份证件 id.png" in listed

    submitted = await post_form(
        client, "/doctor/application/submit", {}, from_page="/doctor/application"
    )
    assert submitted.status_code == 303
    page = (await get_page(client, submitted.headers["location"])).text
    text = text_of(page)
    assert "审核通过，您已可以接诊。" in text
    assert "执业证书 通过" in text and "医院确认执业证书有效，姓名一致。" in text
    assert "医院返回的依据" in text and licence in page  # the hospital's evidence
    assert "草稿 → 已提交" in text and "已提交 → 核验中" in text and "核验中 → 已通过" in text
    assert 'action="/doctor/application"' not in page  # no longer editable


async def test_a_doctor_the_hospital_does_not_know_waits_for_review(
    app: Litestar, client: httpx.AsyncClient, sign_up: Any
) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor: Account = await sign_up("doctor")
    await browser_session(client, doctor)
    await post_form(
        client,
        "/doctor/application",
        {
            "hospital_id": hospital.id,
            "full_name": "不 认识",
            "licence_number": unique_licence_number(),
            "title": "主任医师",
            "specialties": "儿科",
            "languages": "zh",
            "time_zone": "Asia/Shanghai",
        },
    )
    await upload(client, "licence", "licence.pdf", PDF_BYTES)
    await upload(client, "identity", "id.png", PNG_BYTES)
    await post_form(client, "/doctor/application/submit", {}, from_page="/doctor/application")
    text = text_of((await get_page(client, "/doctor/application")).text)
    assert "待人工审核" in text and "执业证书 未通过" in text
    assert "上传资料" in text  # more documents may still be added while waiting
