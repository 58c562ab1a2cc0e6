"""The printable prescription (处方笺) and its PDF, in the reader's language, with the QR code of
the verification page; the verification page for anyone holding the code, which shows the
standing and the digest and nothing of the diagnosis or the drugs; and who may see which."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import asyncpg
import httpx
import pypdf
from litestar import Litestar

from medmarket.prescriptions.tests.helpers import (
    METFORMIN,
    Visit,
    call,
    item,
    ok,
    prescribe,
    prescription,
    visit_in_progress,
)
from medmarket.tests.support.fixtures import Account, client_for
from medmarket.tests.support.pages import browser_session, get_page, post_form, text_of
from medmarket.tests.support.seed import ready_patient

TWO_DRUGS = prescription(
    item(),
    item(
        drug_id=METFORMIN,
        dose="0.5",
        dose_unit="g",
        frequency="bid",
        quantity="14",
        instructions="餐中服用",
    ),
    valid_days=3,
)


async def signed_in(
    app: Litestar, account: Account, locale: str | None = None
) -> httpx.AsyncClient:
    http = client_for(app)
    client = await http.__aenter__()
    await browser_session(client, account)
    if locale:
        saved = await post_form(
            client,
            "/account/preferences",
            {"locale": locale, "time_zone": "Asia/Shanghai"},
            from_page="/account",
        )
        assert saved.status_code == 303, saved.text
    return client


async def issued(app: Litestar) -> tuple[Visit, dict[str, Any]]:
    visit = await visit_in_progress(app)
    return visit, await prescribe(app, visit, TWO_DRUGS)


async def test_the_printable_prescription_reads_as_a_chinese_prescription(app: Litestar) -> None:
    visit, written = await issued(app)
    async with client_for(app) as http:
        await browser_session(http, visit.patient.account)
        response = await get_page(http, f"/prescriptions/{written['id']}/print")
    assert response.status_code == 200, response.text
    page = response.text
    text = text_of(page)
    assert "处方笺" in text and "Rp" in text
    assert written["doctor"]["hospital"] in text
    assert written["patient"]["name"] in text
    assert f"{written['patient']['age_years']} 岁" in text
    assert "原发性高血压 2 级" in text
    assert "氨氯地平" in text and "二甲双胍" in text
    assert "用法用量：口服，每次 5 mg，每日一次，共 7 天" in text
    assert "用法用量：口服，每次 0.5 g，每日两次，共 7 天" in text and "餐中服用" in text
    assert "× 7 片" in text
    assert "待药师审核" in text
    assert written["document_sha256"] in text
    assert f"医生电子签名: Ed25519，密钥 {written['signature']['key_id']}" in text
    # The QR code (inline SVG) opens the verification page.
    assert re.search(r"<svg[^>]*class=\"qr\"", page)
    assert f"/prescriptions/{written['id']}/verify" in page
    assert " style=" not in page.split("<main", 1)[1]  # the pages' policy refuses inline style
    assert f'href="/api/prescriptions/{written["id"]}/pdf"' in page


async def test_the_printable_prescription_in_english(app: Litestar) -> None:
    visit, written = await issued(app)
    http = await signed_in(app, visit.doctor.account, "en")
    try:
        page = (await get_page(http, f"/prescriptions/{written['id']}/print")).text
    finally:
        await http.__aexit__(None, None, None)
    text = text_of(page)
    assert "Prescription" in text and "Awaiting pharmacist review" in text
    assert "amlodipine (氨氯地平)" in text
    assert "Directions: oral, 5 mg per dose, once a day, for 7 days" in text
    assert "twice a day" in text and "× 14 tablet(s)" in text
    assert re.search(r"to \w{3}, \w{3} \d+, \d{4}", text), "three valid days, as a range"


async def test_only_the_consultations_people_see_the_printable_page_and_the_pdf(
    app: Litestar,
) -> None:
    _, written = await issued(app)
    other = await visit_in_progress(app)
    stranger = await ready_patient(app)
    for account in (other.patient.account, stranger.account, other.doctor.account):
        async with client_for(app) as http:
            await browser_session(http, account)
            page = await get_page(http, f"/prescriptions/{written['id']}/print")
            assert page.status_code == 404
            pdf = await http.get(f"/api/prescriptions/{written['id']}/pdf")
            assert pdf.status_code == 404
            fhir = await http.get(f"/api/prescriptions/{written['id']}/fhir")
            assert fhir.status_code == 404
    async with client_for(app) as http:
        anonymous = await get_page(http, f"/prescriptions/{written['id']}/print")
    assert anonymous.status_code in (302, 303) and "/sign-in" in anonymous.headers["location"]


async def test_the_pdf_is_an_a5_prescription_naming_the_drugs(app: Litestar) -> None:
    visit, written = await issued(app)
    response = await call(app, "GET", f"/api/prescriptions/{written['id']}/pdf", visit.patient)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    first = reader.pages[0]
    width_mm, height_mm = (float(v) / 72 * 25.4 for v in first.mediabox.upper_right)
    assert round(width_mm) == 148 and round(height_mm) == 210  # A5
    text = "".join(page.extract_text() for page in reader.pages)
    key = written["signature"]["key_id"]
    for words in ("处方笺", "氨氯地平", "二甲双胍", "餐中服用", "待药师审核", written["id"], key):
        assert words in text.replace("\n", ""), words
    assert reader.metadata is not None and reader.metadata.author == written["doctor"]["name"]


async def test_the_verification_page_shows_the_standing_and_the_digest_to_anyone(
    app: Litestar,
) -> None:
    visit, written = await issued(app)
    async with client_for(app) as http:
        page = await get_page(http, f"/prescriptions/{written['id']}/verify")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert "此处方有效，等待药师审核。" in text
    assert written["document_sha256"] in text
    assert written["doctor"]["name"] in text
    name = written["patient"]["name"]
    assert name not in text and name[0] + "*" in text
    for private in ("原发性高血压", "氨氯地平", "二甲双胍"):
        assert private not in text
    key = written["signature"]["key_id"]
    assert f"医生电子签名（Ed25519，密钥 {key}）核验通过" in text
    # Voided: the page says not to dispense.
    await ok(
        app, "POST", f"/api/prescriptions/{written['id']}/void", visit.doctor, {"reason": "开错"}
    )
    async with client_for(app) as http:
        voided = text_of((await get_page(http, f"/prescriptions/{written['id']}/verify")).text)
        missing = await get_page(http, f"/prescriptions/{visit.consultation_id}/verify")
    assert "医生已作废此处方：不得发药。" in voided
    assert missing.status_code == 404


async def test_the_verification_page_says_when_a_stored_prescription_was_altered(
    app: Litestar, database_url: str
) -> None:
    _, written = await issued(app)
    # What only someone past the database's defences could do: the triggers off, one
    # quantity changed in the stored document.
    owner = await asyncpg.connect(database_url)
    try:
        async with owner.transaction():
            await owner.execute("SET LOCAL session_replication_role = replica")
            await owner.execute(
                "UPDATE prescriptions SET document = convert_to(replace("
                "convert_from(document, 'UTF8'), '\"quantity\":\"7\"', "
                "'\"quantity\":\"70\"'), 'UTF8') WHERE id = $1",
                uuid.UUID(written["id"]),
            )
    finally:
        await owner.close()
    async with client_for(app) as http:
        page = await get_page(http, f"/prescriptions/{written['id']}/verify")
    key = written["signature"]["key_id"]
    assert f"医生电子签名（密钥 {key}）核验未通过：请勿调配" in text_of(page.text)
