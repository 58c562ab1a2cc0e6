"""A pharmacy's money, end to end: a payment naming a pharmacy (the tests' own purpose, as a
pharmacy order will) books the patient's charge as the platform's commission plus the
pharmacy's share; a partial refund and then a full one take both back to zero; the
pharmacy's statement is read by operators and its hospital's admins, and by nobody else; and
a payable naming a pharmacy and a doctor is refused."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar

from medmarket.payments.interface import Money
from medmarket.payments.purposes import Payable
from medmarket.pharmacies.tests.helpers import hospital_with_admin, register
from medmarket.tests.support.fixtures import Account
from medmarket.tests.support.pages import browser_session, get_page, text_of
from medmarket.tests.support.payments import LocalStripe, new_doctor, new_hospital, new_payable


def this_month() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


async def net_by_kind(app: Litestar, payment_id: str) -> dict[str, int]:
    rows = await app.state.services.db.fetch(
        """
        SELECT a.kind, sum(e.amount) AS total FROM ledger_entries e
          JOIN ledger_accounts a ON a.id = e.account_id
          JOIN ledger_transactions t ON t.id = e.transaction_id
         WHERE t.payment_id = $1 GROUP BY a.kind
        """,
        uuid.UUID(payment_id),
    )
    return {row["kind"]: int(row["total"]) for row in rows}


async def pay(
    client: httpx.AsyncClient, localstripe: LocalStripe, patient: Account, subject: uuid.UUID
) -> dict[str, Any]:
    started = await client.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(subject)},
        headers=patient.headers,
    )
    assert started.status_code == 201, started.text
    paid = await client.post(
        f"/api/payments/{started.json()['id']}/confirm",
        json={"payment_method": await localstripe.card_token()},
        headers=patient.headers,
    )
    assert paid.json()["status"] == "succeeded", paid.text
    payment: dict[str, Any] = paid.json()
    return payment


async def refund(
    client: httpx.AsyncClient, operator: Account, payment_id: str, amount: int | None
) -> None:
    body: dict[str, Any] = {"reason": "operator_decision"}
    if amount is not None:
        body["amount"] = amount
    answer = await client.post(
        f"/api/payments/{payment_id}/refunds", json=body, headers=operator.headers
    )
    assert answer.json()["status"] == "succeeded", answer.text


@pytest.fixture
async def hospital_pharmacy(
    client: httpx.AsyncClient, operator: Account, sign_up: Callable[..., Any]
) -> dict[str, Any]:
    """A partner hospital's own pharmacy, the hospital's admin, and a patient."""
    hospital_id, admin = await hospital_with_admin(client, operator)
    pharmacy = await register(
        client, operator, kind="hospital", hospital_id=hospital_id, licence_number=None
    )
    return {"hospital": hospital_id, "admin": admin, "pharmacy": pharmacy["id"],
            "name": pharmacy["name_zh"], "patient": await sign_up("patient")}  # fmt: skip


async def test_a_pharmacys_charge_is_booked_to_it_and_refunds_reverse_it_to_zero(
    app: Litestar,
    client: httpx.AsyncClient,
    localstripe: LocalStripe,
    operator: Account,
    hospital_pharmacy: dict[str, Any],
) -> None:
    assert app.state.services.settings.pharmacy_platform_rate_bp == 300
    pharmacy = uuid.UUID(hospital_pharmacy["pharmacy"])
    subject = await new_payable(app, hospital_pharmacy["patient"].id, 10001, pharmacy_id=pharmacy)
    payment = await pay(client, localstripe, hospital_pharmacy["patient"], subject)
    stored = await app.state.services.db.fetchrow(
        "SELECT pharmacy_id, doctor_id, hospital_id FROM payments WHERE id = $1",
        uuid.UUID(payment["id"]),
    )
    assert (stored["pharmacy_id"], stored["doctor_id"], stored["hospital_id"]) == (
        pharmacy,
        None,
        None,
    )
    # 3% of ¥100.01 is 300.03 fen: the platform takes the floor, the pharmacy the rest.
    assert await net_by_kind(app, payment["id"]) == {
        "gateway_clearing": 10001,
        "platform_commission": -300,
        "pharmacy_payable": -9701,
    }

    await refund(client, operator, payment["id"], 2500)
    after_partial = await net_by_kind(app, payment["id"])
    # 2500 of 10001 back: 75 from the platform (74.99…, the larger remainder), 2425 from the
    # pharmacy (2425.01…).
    assert after_partial == {
        "gateway_clearing": 7501,
        "platform_commission": -225,
        "pharmacy_payable": -7276,
    }
    await refund(client, operator, payment["id"], None)  # all that is left
    assert await net_by_kind(app, payment["id"]) == {
        "gateway_clearing": 0,
        "platform_commission": 0,
        "pharmacy_payable": 0,
    }
    kinds = await app.state.services.db.fetch(
        "SELECT kind FROM ledger_transactions WHERE payment_id = $1 ORDER BY id",
        uuid.UUID(payment["id"]),
    )
    assert [row["kind"] for row in kinds] == ["charge", "refund", "refund"]

    # Its statement: the charge and both refunds with the pharmacy's share of each.
    path = f"/api/settlements/pharmacies/{pharmacy}?period={this_month()}"
    answer = await client.get(path, headers=hospital_pharmacy["admin"].headers)
    assert answer.status_code == 200, answer.text
    statement = answer.json()
    assert statement["party"] == "pharmacy" and statement["name"] == hospital_pharmacy["name"]
    assert [(line["kind"], line["gross"], line["share"]) for line in statement["lines"]] == [
        ("charge", 10001, 9701),
        ("refund", -2500, -2425),
        ("refund", -7501, -7276),
    ]
    assert statement["totals"] == {"charges": 1, "refunds": 2, "gross": 0, "share": 0}
    assert {line["doctor_id"] for line in statement["lines"]} == {None}
    as_csv = await client.get(path + "&format=csv", headers=operator.headers)
    assert as_csv.status_code == 200
    assert "settlement-pharmacy-" in as_csv.headers["content-disposition"]
    # The hospital's own statement has no share of its pharmacy's orders.
    hospital_path = f"/api/settlements/hospitals/{hospital_pharmacy['hospital']}"
    hospital = await client.get(
        f"{hospital_path}?period={this_month()}", headers=hospital_pharmacy["admin"].headers
    )
    assert hospital.json()["lines"] == []


async def test_only_operators_and_its_hospitals_admins_read_a_pharmacys_statement(
    client: httpx.AsyncClient,
    operator: Account,
    sign_up: Callable[..., Any],
    hospital_pharmacy: dict[str, Any],
) -> None:
    month = this_month()
    independent = (await register(client, operator))["id"]
    _, other_admin = await hospital_with_admin(client, operator)
    admin = hospital_pharmacy["admin"]

    def path(pharmacy: object) -> str:
        return f"/api/settlements/pharmacies/{pharmacy}?period={month}"

    for account, pharmacy, status in [
        (operator, hospital_pharmacy["pharmacy"], 200),
        (operator, independent, 200),
        (admin, hospital_pharmacy["pharmacy"], 200),
        (admin, independent, 404),  # an independent pharmacy is the operators'
        (other_admin, hospital_pharmacy["pharmacy"], 404),
        (admin, uuid.uuid4(), 404),
        (await sign_up("doctor"), hospital_pharmacy["pharmacy"], 403),
        (await sign_up("pharmacist"), hospital_pharmacy["pharmacy"], 403),
        (hospital_pharmacy["patient"], hospital_pharmacy["pharmacy"], 403),
    ]:
        answer = await client.get(path(pharmacy), headers=account.headers)
        assert answer.status_code == status, (account.role, pharmacy, answer.text)


async def test_the_pharmacys_statement_pages(
    app: Litestar,
    client: httpx.AsyncClient,
    localstripe: LocalStripe,
    operator: Account,
    hospital_pharmacy: dict[str, Any],
) -> None:
    pharmacy = hospital_pharmacy["pharmacy"]
    subject = await new_payable(
        app, hospital_pharmacy["patient"].id, 5000, pharmacy_id=uuid.UUID(pharmacy)
    )
    await pay(client, localstripe, hospital_pharmacy["patient"], subject)
    admin = hospital_pharmacy["admin"]
    await browser_session(client, admin)
    hospital_page = (
        await get_page(client, f"/hospital/{hospital_pharmacy['hospital']}/settlements")
    ).text
    link = f'href="/pharmacy/{pharmacy}/settlements?period={this_month()}"'
    assert link in hospital_page and "本院药房" in text_of(hospital_page)
    page = (await get_page(client, f"/pharmacy/{pharmacy}/settlements")).text
    text = text_of(page)
    assert hospital_pharmacy["name"] in text and "← 医院结算单" in text
    assert "药房收入 ¥48.50" in text  # ¥50 less the platform's 3%
    assert "药房订单" not in text  # the tests' own purpose is shown by its name
    assert f'href="/api/settlements/pharmacies/{pharmacy}?period=' in page
    independent = (await register(client, operator))["id"]
    refused = await client.get(f"/pharmacy/{independent}/settlements")
    assert refused.status_code == 404

    await browser_session(client, operator)
    operator_page = (await get_page(client, f"/operator/pharmacies/{independent}")).text
    assert f'href="/pharmacy/{independent}/settlements"' in operator_page
    empty = text_of((await get_page(client, f"/pharmacy/{independent}/settlements")).text)
    assert "药房收入 ¥0.00" in empty and "这个月没有收款或退款。" in empty


async def test_a_payable_names_a_pharmacy_or_a_doctor_never_both(
    app: Litestar,
    client: httpx.AsyncClient,
    sign_up: Callable[..., Any],
    hospital_pharmacy: dict[str, Any],
) -> None:
    pharmacy = uuid.UUID(hospital_pharmacy["pharmacy"])
    payer = uuid.uuid4()
    for doctor, hospital in [(uuid.uuid4(), None), (None, uuid.uuid4())]:
        with pytest.raises(ValueError, match="not both"):
            Payable(
                amount=Money(100, "CNY"),
                description="x",
                payer_id=payer,
                doctor_id=doctor,
                hospital_id=hospital,
                pharmacy_id=pharmacy,
            )
    # A purpose that tries it anyway makes no payment.
    hospital_id = await new_hospital(app)
    doctor = await new_doctor(app, (await sign_up("doctor")).id, hospital_id)
    patient = hospital_pharmacy["patient"]
    subject = await new_payable(app, patient.id, 5000, doctor_id=doctor, pharmacy_id=pharmacy)
    answer = await client.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(subject)},
        headers=patient.headers,
    )
    assert answer.status_code == 500
    made = await app.state.services.db.fetchval(
        "SELECT count(*) FROM payments WHERE subject_id = $1", subject
    )
    assert made == 0
