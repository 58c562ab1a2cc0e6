"""The health record page over HTTP: consent first (and back again), allergies, chronic
conditions and medication for the account holder and each family member, and documents of
earlier diagnoses uploaded without script."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from litestar import Litestar

from medmarket.patients.service import CURRENT_POLICY_VERSION
from medmarket.tests.support.factories import PDF_BYTES
from medmarket.tests.support.fixtures import Account, client_for
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
from medmarket.tests.support.seed import Patient, expect, ready_patient

DOCUMENT = {
    "kind": "report",
    "title": "血常规报告",
    "institution": "临安区人民医院",
    "issued_on": "2026-01-15",
}


async def family_member(http: httpx.AsyncClient, account: Account) -> str:
    member = await expect(
        http.post(
            "/api/patients/me/family",
            headers=account.headers,
            json={"real_name": "王 小宝", "relationship": "child", "date_of_birth": "2021-06-01"},
        ),
        201,
    )
    return str(member["id"])


async def upload(
    http: httpx.AsyncClient, patient_id: str, fields: dict[str, str], file: tuple[str, bytes]
) -> httpx.Response:
    page = await get_page(http, f"/family/{patient_id}/health")
    return await http.post(
        f"/family/{patient_id}/documents",
        data={"_csrf": csrf_of(page.text), **fields},
        files={"file": file},
        headers=HTML,
    )


async def test_without_consent_the_patient_is_sent_to_agree_and_back(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    account: Account = await sign_up("patient")
    member = await family_member(client, account)
    await browser_session(client, account)
    here = f"/family/{member}/health"
    sent = await get_page(client, here)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/profile/consent?next={quote(here, safe='')}"
    # Not even a typed profile is kept without consent: the same way to the consent page.
    typed = await post_form(client, here, {"allergies": "青霉素"}, from_page="/family")
    assert typed.status_code == 303 and typed.headers["location"] == sent.headers["location"]
    agreed = await post_form(
        client,
        "/profile/consent",
        {"policy_version": CURRENT_POLICY_VERSION, "agree": "yes", "next": here},
    )
    assert agreed.status_code == 303 and agreed.headers["location"] == here
    page = await get_page(client, here)
    assert page.status_code == 200
    assert "王 小宝的健康档案" in text_of(page.text)


async def test_the_account_holder_and_a_family_member_each_have_their_record(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    patient: Patient = await ready_patient(app)
    member = await family_member(client, patient.account)
    await browser_session(client, patient.account)
    family = (await get_page(client, "/family")).text
    assert f'href="/family/{patient.id}/health"' in family
    assert f'href="/family/{member}/health"' in family

    mine = f"/family/{patient.id}/health"
    saved = await post_form(
        client,
        mine,
        {
            "allergies": "青霉素\r\n\r\n  花粉  \r\n青霉素",
            "chronic_conditions": "原发性高血压",
            "current_medications": "氨氯地平 5mg 每日一次",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"] == mine + "?saved=profile"
    page = (await get_page(client, mine + "?saved=profile")).text
    assert "健康信息已保存。" in page
    assert field_value(page, "allergies") == "青霉素\n花粉"  # blank lines and repeats dropped
    assert "最后更新于" in page
    stored = (await client.get(f"/api/patients/{patient.id}/health")).json()
    assert stored["allergies"] == ["青霉素", "花粉"]
    assert stored["current_medications"] == ["氨氯地平 5mg 每日一次"]

    # The child's record is their own.
    child = (await client.get(f"/api/patients/{member}/health")).json()
    assert child["allergies"] == []
    too_long = "很长" * 101
    refused = await post_form(
        client,
        f"/family/{member}/health",
        {"allergies": f"鸡蛋\n{too_long}", "chronic_conditions": "哮喘"},
    )
    assert refused.status_code == 422
    assert error_beside(refused.text, "allergies") == "错误：最多 50 项，每项不超过 200 个字。"
    assert field_value(refused.text, "allergies") == f"鸡蛋\n{too_long}"  # kept as typed
    assert field_value(refused.text, "chronic_conditions") == "哮喘"
    assert "<title>错误：" in refused.text
    assert (await client.get(f"/api/patients/{member}/health")).json()["allergies"] == []


async def test_a_document_is_uploaded_without_script_and_listed(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    patient: Patient = await ready_patient(app)
    await browser_session(client, patient.account)
    empty = await upload(client, patient.id, {"kind": "report"}, ("", b""))
    assert empty.status_code == 422
    for name in ("title", "institution", "issued_on", "file"):  # every one named at once
        assert error_beside(empty.text, name), name
    assert field_value(empty.text, "kind") == "report"

    wrong = await upload(client, patient.id, DOCUMENT, ("report.pdf", b"<html>not a scan</html>"))
    assert wrong.status_code == 415
    assert error_beside(wrong.text, "file") == (
        "错误：这个文件不是 PDF、JPG 或 PNG（按文件内容判断，与文件名无关）。"
    )
    assert field_value(wrong.text, "title") == DOCUMENT["title"]  # kept
    assert field_value(wrong.text, "issued_on") == DOCUMENT["issued_on"]
    future = await upload(
        client, patient.id, DOCUMENT | {"issued_on": "2999-01-01"}, ("report.pdf", PDF_BYTES)
    )
    assert future.status_code == 422
    assert error_beside(future.text, "issued_on") == (
        "错误：请填写资料上的出具日期：有效日期，且不晚于今天。"
    )

    done = await upload(client, patient.id, DOCUMENT, ("血常规.pdf", PDF_BYTES))
    assert done.status_code == 303
    assert done.headers["location"] == f"/family/{patient.id}/health?saved=uploaded#documents"
    page = (await get_page(client, f"/family/{patient.id}/health?saved=uploaded")).text
    assert "资料已上传。" in page
    listed = (await client.get(f"/api/patients/{patient.id}/documents")).json()
    assert [d["title"] for d in listed] == ["血常规报告"]
    assert f'href="/api/patient-documents/{listed[0]["id"]}"' in page
    assert "检查报告" in text_of(page) and "血常规.pdf" in page
    # The upload form points its script at the API, with the page to show afterwards.
    assert f'data-upload="/api/patients/{patient.id}/documents"' in page


async def test_the_page_is_in_english_too(client: httpx.AsyncClient, app: Litestar) -> None:
    patient: Patient = await ready_patient(app)
    await browser_session(client, patient.account)
    await post_form(client, "/language", {"locale": "en", "next": "/"}, from_page="/")
    page = (await get_page(client, f"/family/{patient.id}/health")).text
    assert "Health record: 王 小明" in text_of(page)
    assert "Current medication" in page and "Earlier diagnoses" in page


async def test_another_accounts_patient_is_not_found(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    owner, stranger = await ready_patient(app), await ready_patient(app)
    await browser_session(client, stranger.account)
    path = f"/family/{owner.id}/health"
    assert (await get_page(client, path)).status_code == 404
    refused = await post_form(client, path, {"allergies": "x"}, from_page="/family")
    assert refused.status_code == 404
    uploaded = await upload_as(client, owner.id)
    assert uploaded.status_code == 404
    async with client_for(app) as http:
        listed = await http.get(f"/api/patients/{owner.id}/documents", headers=owner.headers)
    assert listed.json() == []


async def upload_as(http: httpx.AsyncClient, patient_id: str) -> httpx.Response:
    page = await get_page(http, "/family")
    return await http.post(
        f"/family/{patient_id}/documents",
        data={"_csrf": csrf_of(page.text), **DOCUMENT},
        files={"file": ("x.pdf", PDF_BYTES)},
        headers=HTML,
    )
