"""Patients: real-name details, consent before any health data, family, ownership."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import httpx
import pytest
from litestar import Litestar

from medmarket.errors import NotFound
from medmarket.patients.service import CURRENT_POLICY_VERSION, health_record
from medmarket.tests.support.factories import platform_day
from medmarket.tests.support.fixtures import Account, SignUp

DETAILS = {
    "real_name": "王 小明",
    "phone": "138 0013 8000",
    "date_of_birth": "1968-04-02",
    "sex": "male",
}
CONSENT = {"policy_version": CURRENT_POLICY_VERSION, "agree": True}
PROFILE = {
    "allergies": ["青霉素"],
    "chronic_conditions": ["2型糖尿病", "高血压"],
    "current_medications": ["二甲双胍 500mg"],
}


async def test_real_name_details_are_normalised(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    patient: Account = await sign_up("patient")
    response = await client.put("/api/patients/me", json=DETAILS, headers=patient.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "+8613800138000"
    assert body["real_name"] == "王 小明" and body["relationship"] == "self"
    again = await client.put(
        "/api/patients/me", json={**DETAILS, "real_name": "王小明"}, headers=patient.headers
    )
    assert again.json()["id"] == body["id"]  # one record of the account holder


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "not a phone"}, "phone"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1 May 1980"}, "date_of_birth"),
        ({"real_name": "   "}, "real_name"),
        ({"sex": "x"}, "sex"),
    ],
)
async def test_bad_details_name_the_field(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    changes: dict[str, str],
    field: str,
) -> None:
    patient: Account = await sign_up("patient")
    response = await client.put(
        "/api/patients/me", json={**DETAILS, **changes}, headers=patient.headers
    )
    assert response.status_code in (400, 422)
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_no_health_data_before_consent(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    patient: Account = await sign_up("patient")
    me = (await client.put("/api/patients/me", json=DETAILS, headers=patient.headers)).json()
    refused = await client.put(
        f"/api/patients/{me['id']}/health", json=PROFILE, headers=patient.headers
    )
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/consent-required"
    assert refused.json()["current_policy_version"] == CURRENT_POLICY_VERSION
    stored = await client.get(f"/api/patients/{me['id']}/health", headers=patient.headers)
    assert stored.json()["allergies"] == []


async def test_consent_must_be_explicit_and_current(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    patient: Account = await sign_up("patient")
    no = await client.post(
        "/api/patients/me/consent", json={**CONSENT, "agree": False}, headers=patient.headers
    )
    assert no.status_code == 422 and no.json()["errors"][0]["field"] == "agree"
    old = await client.post(
        "/api/patients/me/consent",
        json={**CONSENT, "policy_version": "2020-01"},
        headers=patient.headers,
    )
    assert old.status_code == 422 and old.json()["errors"][0]["field"] == "policy_version"


async def test_health_profile_after_consent_and_not_after_withdrawal(
    client: httpx.AsyncClient, sign_up: SignUp, app: Litestar
) -> None:
    patient: Account = await sign_up("patient")
    me = (await client.put("/api/patients/me", json=DETAILS, headers=patient.headers)).json()
    granted = await client.post("/api/patients/me/consent", json=CONSENT, headers=patient.headers)
    assert granted.status_code == 201
    saved = await client.put(
        f"/api/patients/{me['id']}/health", json=PROFILE, headers=patient.headers
    )
    assert saved.status_code == 200
    assert saved.json()["chronic_conditions"] == ["2型糖尿病", "高血压"]
    assert (
        await client.delete("/api/patients/me/consent", headers=patient.headers)
    ).status_code == 204
    refused = await client.put(
        f"/api/patients/{me['id']}/health", json=PROFILE, headers=patient.headers
    )
    assert refused.status_code == 409
    events = await app.state.services.db.fetch(
        "SELECT action FROM audit_events WHERE actor_id = $1 ORDER BY id", uuid.UUID(patient.id)
    )
    actions = [e["action"] for e in events]
    assert actions.index("consent.granted") < actions.index("patient.health_profile_set")
    assert "consent.withdrawn" in actions


async def test_the_database_itself_refuses_health_data_without_consent(
    client: httpx.AsyncClient, sign_up: SignUp, app: Litestar
) -> None:
    patient: Account = await sign_up("patient")
    me = (await client.put("/api/patients/me", json=DETAILS, headers=patient.headers)).json()
    consent = (
        await client.post("/api/patients/me/consent", json=CONSENT, headers=patient.headers)
    ).json()
    await client.delete("/api/patients/me/consent", headers=patient.headers)
    async with app.state.services.db.connection() as connection:
        with pytest.raises(asyncpg.CheckViolationError, match="active consent"):
            await connection.execute(
                "INSERT INTO patient_health_profiles (patient_id, allergies, consent_id) "
                "VALUES ($1, '{x}', $2)",
                uuid.UUID(me["id"]),
                uuid.UUID(consent["id"]),
            )


async def test_family_members_and_the_guardian_flag(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    parent: Account = await sign_up("patient")
    await client.put("/api/patients/me", json=DETAILS, headers=parent.headers)
    four = (platform_day() - dt.timedelta(days=4 * 365)).isoformat()
    child = await client.post(
        "/api/patients/me/family",
        headers=parent.headers,
        json={"real_name": "王 豆豆", "relationship": "child", "date_of_birth": four},
    )
    assert child.status_code == 201 and child.json()["needs_guardian"] is True
    grandma = await client.post(
        "/api/patients/me/family",
        headers=parent.headers,
        json={"real_name": "李 秀英", "relationship": "grandparent", "date_of_birth": "1940-01-01"},
    )
    assert grandma.json()["needs_guardian"] is False
    mine = (await client.get("/api/patients/me", headers=parent.headers)).json()
    assert mine["me"]["real_name"] == "王 小明"
    assert {p["real_name"] for p in mine["family"]} == {"王 豆豆", "李 秀英"}
    removed = await client.delete(f"/api/patients/{grandma.json()['id']}", headers=parent.headers)
    assert removed.status_code == 204
    cannot = await client.delete(f"/api/patients/{mine['me']['id']}", headers=parent.headers)
    assert cannot.status_code == 422


async def test_another_account_sees_the_same_404_as_for_nothing(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    owner: Account = await sign_up("patient")
    stranger: Account = await sign_up("patient")
    await client.put("/api/patients/me", json=DETAILS, headers=owner.headers)
    await client.post("/api/patients/me/consent", json=CONSENT, headers=owner.headers)
    child = (
        await client.post(
            "/api/patients/me/family",
            headers=owner.headers,
            json={"real_name": "王 豆豆", "relationship": "child", "date_of_birth": "2021-05-05"},
        )
    ).json()
    await client.put(f"/api/patients/{child['id']}/health", json=PROFILE, headers=owner.headers)
    missing = await client.get(f"/api/patients/{uuid.uuid4()}", headers=stranger.headers)
    for method, path, body in [
        ("GET", f"/api/patients/{child['id']}", None),
        ("GET", f"/api/patients/{child['id']}/health", None),
        ("PUT", f"/api/patients/{child['id']}/health", PROFILE),
        ("DELETE", f"/api/patients/{child['id']}", None),
    ]:
        response = await client.request(method, path, json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["detail"] == missing.json()["detail"]
    still = await client.get(f"/api/patients/{child['id']}/health", headers=owner.headers)
    assert still.json()["allergies"] == ["青霉素"]


async def test_the_health_record_care_reads(
    client: httpx.AsyncClient, sign_up: SignUp, app: Litestar
) -> None:
    patient: Account = await sign_up("patient")
    me = (await client.put("/api/patients/me", json=DETAILS, headers=patient.headers)).json()
    db = app.state.services.db
    nothing_yet = await health_record(db.pool, uuid.UUID(me["id"]))
    assert (nothing_yet.allergies, nothing_yet.profile_updated_at) == ((), None)
    assert (nothing_yet.relationship, nothing_yet.sex) == ("self", "male")
    await client.post("/api/patients/me/consent", json=CONSENT, headers=patient.headers)
    await client.put(f"/api/patients/{me['id']}/health", json=PROFILE, headers=patient.headers)
    record = await health_record(db.pool, uuid.UUID(me["id"]))
    assert record.allergies == ("青霉素",)
    assert record.chronic_conditions == ("2型糖尿病", "高血压")
    assert record.current_medications == ("二甲双胍 500mg",)
    assert record.date_of_birth == dt.date(1968, 4, 2) and record.profile_updated_at is not None
    with pytest.raises(NotFound):
        await health_record(db.pool, uuid.uuid4())
