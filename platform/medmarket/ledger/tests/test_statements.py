"""Settlement statements per doctor and per hospital and month, as JSON and CSV, for the
people allowed to read them; and the hospital agreements that set the shares."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar

from medmarket.errors import InvalidInput
from medmarket.ledger.statements import month_bounds
from medmarket.tests.support.fixtures import Account
from medmarket.tests.support.payments import LocalStripe, new_doctor, new_hospital, new_payable

BEIJING = ZoneInfo("Asia/Shanghai")


def this_month() -> str:
    return dt.datetime.now(BEIJING).strftime("%Y-%m")


async def pay(
    app: Litestar,
    client: httpx.AsyncClient,
    localstripe: LocalStripe,
    patient: Account,
    amount: int,
    doctor: uuid.UUID,
    hospital: uuid.UUID,
) -> str:
    subject = await new_payable(app, patient.id, amount, doctor_id=doctor, hospital_id=hospital)
    payment = await client.post(
        "/api/payments",
        json={"purpose": "test_payable", "subject_id": str(subject)},
        headers=patient.headers,
    )
    paid = await client.post(
        f"/api/payments/{payment.json()['id']}/confirm",
        json={"payment_method": await localstripe.card_token()},
        headers=patient.headers,
    )
    assert paid.json()["status"] == "succeeded"
    return str(payment.json()["id"])


@pytest.fixture
async def clinic(
    app: Litestar,
    client: httpx.AsyncClient,
    sign_up: Callable[..., Any],
    operator: Account,
    localstripe: LocalStripe,
) -> dict[str, Any]:
    """A hospital with a 15% / 25% agreement, one of its doctors, two visits paid and part of
    one refunded."""
    hospital = await new_hospital(app)
    doctor_account = await sign_up("doctor")
    doctor = await new_doctor(app, doctor_account.id, hospital)
    agreed = await client.post(
        f"/api/settlements/hospitals/{hospital}/agreement",
        json={
            "platform_rate_bp": 1500,
            "hospital_rate_bp": 2500,
            "effective_from": "2020-01-01T00:00:00Z",
        },
        headers=operator.headers,
    )
    assert agreed.status_code == 201, agreed.text
    patient = await sign_up("patient")
    first = await pay(app, client, localstripe, patient, 10000, doctor, hospital)
    await pay(app, client, localstripe, patient, 4999, doctor, hospital)
    refunded = await client.post(
        f"/api/payments/{first}/refunds",
        json={"amount": 2000, "reason": "doctor_cancelled"},
        headers=operator.headers,
    )
    assert refunded.json()["status"] == "succeeded"
    admin = await sign_up("hospital_admin")
    await app.state.services.db.execute(
        "INSERT INTO hospital_admins (hospital_id, user_id) VALUES ($1, $2)",
        hospital,
        uuid.UUID(admin.id),
    )
    return {"hospital": hospital, "doctor": doctor, "doctor_account": doctor_account,
            "admin": admin, "first": first}  # fmt: skip


async def test_doctor_statement_lists_each_charge_and_refund(
    client: httpx.AsyncClient, clinic: dict[str, Any]
) -> None:
    me = clinic["doctor_account"]
    answer = await client.get(f"/api/settlements/doctor?period={this_month()}", headers=me.headers)
    assert answer.status_code == 200, answer.text
    statement = answer.json()
    assert statement["party"] == "doctor" and statement["name"] == "王医生"
    # The doctor receives the 60% left: 6000 of 10000; of 4999 the platform takes 749 and
    # the hospital 1249 (floors), so the doctor gets 3001; 60% of the 2000 refunded goes back.
    assert [(line["kind"], line["gross"], line["share"]) for line in statement["lines"]] == [
        ("charge", 10000, 6000),
        ("charge", 4999, 3001),
        ("refund", -2000, -1200),
    ]
    assert statement["totals"] == {"charges": 2, "refunds": 1, "gross": 12999, "share": 7801}
    by_id = await client.get(
        f"/api/settlements/doctors/{clinic['doctor']}?period={this_month()}", headers=me.headers
    )
    assert by_id.json()["lines"] == statement["lines"]
    as_csv = await client.get(
        f"/api/settlements/doctor?period={this_month()}&format=csv", headers=me.headers
    )
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"  # the charset once
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8").lstrip("\ufeff"))))
    assert [row[-2] for row in rows[1:]] == ["6000", "3001", "-1200", "7801"]
    assert rows[-1][0] == "合计" and rows[-1][-1] == "78.01"


async def test_hospital_statement_as_csv(client: httpx.AsyncClient, clinic: dict[str, Any]) -> None:
    admin = clinic["admin"]
    path = f"/api/settlements/hospitals/{clinic['hospital']}?period={this_month()}"
    statement = (await client.get(path, headers=admin.headers)).json()
    assert [line["share"] for line in statement["lines"]] == [2500, 1249, -500]
    assert statement["totals"]["share"] == 3249
    assert {line["doctor_id"] for line in statement["lines"]} == {str(clinic["doctor"])}
    assert {line["doctor_name"] for line in statement["lines"]} == {"王医生"}

    answer = await client.get(path + "&format=csv", headers=admin.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "时间" and rows[0][-1] == "分成(元)"
    assert [row[-2] for row in rows[1:]] == ["2500", "1249", "-500", "3249"]
    assert rows[-1][0] == "合计" and rows[-1][-1] == "32.49"
    english = await client.get(path + "&format=csv&locale=en", headers=admin.headers)
    assert english.text.lstrip("\ufeff").startswith("occurred_at,kind,payment_id")


async def test_only_the_doctor_the_hospital_admin_and_operators_may_read(
    client: httpx.AsyncClient,
    clinic: dict[str, Any],
    sign_up: Callable[..., Any],
    operator: Account,
) -> None:
    month = this_month()
    doctor_path = f"/api/settlements/doctors/{clinic['doctor']}?period={month}"
    hospital_path = f"/api/settlements/hospitals/{clinic['hospital']}?period={month}"
    other_doctor, other_admin = await sign_up("doctor"), await sign_up("hospital_admin")
    missing_doctor = f"/api/settlements/doctors/{uuid.uuid4()}?period={month}"
    missing_hospital = f"/api/settlements/hospitals/{uuid.uuid4()}?period={month}"
    for account, path in [
        (other_doctor, doctor_path),
        (other_doctor, missing_doctor),
        (other_admin, hospital_path),
        (other_admin, missing_hospital),
        (other_admin, f"/api/settlements/hospitals/{clinic['hospital']}/agreement"),
    ]:
        answer = await client.get(path, headers=account.headers)
        assert answer.status_code == 404, (path, answer.text)
    assert (await client.get("/api/settlements/doctor?period=" + month,
                             headers=other_doctor.headers)).status_code == 404  # fmt: skip
    for path in (doctor_path, hospital_path):
        assert (await client.get(path, headers=operator.headers)).status_code == 200
    patient = await sign_up("patient")
    assert (await client.get(doctor_path, headers=patient.headers)).status_code == 403


async def test_a_period_is_a_month(
    client: httpx.AsyncClient, clinic: dict[str, Any], operator: Account
) -> None:
    base = f"/api/settlements/doctors/{clinic['doctor']}"
    for bad in ("2026-13", "2026-3", "march", ""):
        answer = await client.get(f"{base}?period={bad}", headers=operator.headers)
        assert answer.status_code in (400, 422), bad
    assert (await client.get(base, headers=operator.headers)).status_code in (400, 422)
    empty = await client.get(f"{base}?period=2019-01", headers=operator.headers)
    assert empty.json()["lines"] == [] and empty.json()["totals"]["share"] == 0


def test_months_are_counted_in_beijing_time() -> None:
    starts, ends = month_bounds("2026-04", "Asia/Shanghai")
    assert starts == dt.datetime(2026, 3, 31, 16, tzinfo=dt.UTC)
    assert ends == dt.datetime(2026, 4, 30, 16, tzinfo=dt.UTC)
    december = month_bounds("2026-12", "Asia/Shanghai")
    assert december[1] == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)
    for unknown in ("2026-00", "0001-01", "9999-12"):
        with pytest.raises(InvalidInput):
            month_bounds(unknown, "Asia/Shanghai")


async def test_agreements_are_versioned_and_checked(
    app: Litestar,
    client: httpx.AsyncClient,
    operator: Account,
    sign_up: Callable[..., Any],
) -> None:
    hospital = await new_hospital(app)
    path = f"/api/settlements/hospitals/{hospital}/agreement"
    default = (await client.get(path, headers=operator.headers)).json()
    assert default["is_default"] and default["platform_rate_bp"] == 1000
    too_much = await client.post(
        path, json={"platform_rate_bp": 6000, "hospital_rate_bp": 5000}, headers=operator.headers
    )
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "hospital_rate_bp"
    set_now = await client.post(
        path, json={"platform_rate_bp": 800, "hospital_rate_bp": 3000}, headers=operator.headers
    )
    assert set_now.status_code == 201
    current = (await client.get(path, headers=operator.headers)).json()
    assert (current["platform_rate_bp"], current["hospital_rate_bp"], current["is_default"]) == (
        800,
        3000,
        False,
    )
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    await client.post(
        path,
        json={"platform_rate_bp": 900, "hospital_rate_bp": 3000, "effective_from": later},
        headers=operator.headers,
    )
    assert (await client.get(path, headers=operator.headers)).json()["platform_rate_bp"] == 800
    missing = await client.post(
        f"/api/settlements/hospitals/{uuid.uuid4()}/agreement",
        json={"platform_rate_bp": 1, "hospital_rate_bp": 1},
        headers=operator.headers,
    )
    assert missing.status_code == 404
    admin = await sign_up("hospital_admin")
    refused = await client.post(
        path, json={"platform_rate_bp": 0, "hospital_rate_bp": 0}, headers=admin.headers
    )
    assert refused.status_code == 403
