"""Audit events commit with the change they record and cannot be rewritten."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from litestar import Litestar

from medmarket.db import Database
from medmarket.doctors import decisions
from medmarket.failpoints import InjectedFault
from medmarket.tests.support.factories import (
    add_staff,
    draft_doctor,
    hospital_with_demo_adapter,
    staff_record,
    submit,
)
from medmarket.tests.support.fixtures import STRONG_PASSWORD, Account, SignUp, unique_email


async def events_for(app: Litestar, subject_id: str) -> list[asyncpg.Record]:
    db: Database = app.state.services.db
    return await db.fetch(
        "SELECT * FROM audit_events WHERE subject_type = 'user' AND subject_id = $1 ORDER BY id",
        subject_id,
    )


async def test_sign_up_and_sign_in_are_recorded_with_who_what_where(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    email = unique_email()
    created = await client.post(
        "/api/accounts",
        json={"email": email, "password": STRONG_PASSWORD, "display_name": "Ann"},
        headers={"user-agent": "audit-test/1.0", "x-request-id": "req-123"},
    )
    assert created.status_code == 202
    await client.post("/api/tokens", json={"email": email, "password": "wrong-password!"})
    signed_in = await client.post("/api/tokens", json={"email": email, "password": STRONG_PASSWORD})
    user_id = signed_in.json()["user"]["id"]
    events = await events_for(app, user_id)
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("account.signed_up", "success"),
        ("account.sign_in", "failed"),
        ("account.sign_in", "success"),
    ]
    signed_up = events[0]
    assert str(signed_up["actor_id"]) == user_id and signed_up["actor_role"] == "patient"
    assert signed_up["user_agent"] == "audit-test/1.0" and signed_up["request_id"] == "req-123"
    assert signed_up["ip"] is not None and signed_up["occurred_at"] is not None
    assert events[1]["actor_id"] is None  # nobody was signed in when the guess was made


async def test_a_change_that_rolls_back_leaves_no_audit_event(
    client: httpx.AsyncClient, app: Litestar, operator: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An operator's approval: the status change and its audit event are written, then the
    # notification that follows in the same transaction fails.
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, full_name="钱 医生")
    record = staff_record(
        licence_number=doctor.licence_number, full_name="钱 医生", practice_started_on=None
    )
    await add_staff(app, hospital, record)
    assert (await submit(app, doctor))["status"] == "needs_review"

    async def broken_notify(*args: object, **kwargs: object) -> None:
        raise InjectedFault("the notification could not be queued")

    monkeypatch.setattr(decisions, "notify_user", broken_notify)
    failed = await client.post(
        f"/api/onboarding/doctors/{doctor.doctor_id}/approve",
        headers=operator.headers,
        json={"reason": "电话核实"},
    )
    assert failed.status_code == 500
    db = app.state.services.db
    status = await db.fetchval(
        "SELECT status FROM doctors WHERE id = $1", uuid.UUID(doctor.doctor_id)
    )
    approvals = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'doctor.approved' AND subject_id = $1",
        doctor.doctor_id,
    )
    assert (status, approvals) == ("needs_review", 0)

    monkeypatch.undo()  # the same decision, nothing broken: both are written together
    approved = await client.post(
        f"/api/onboarding/doctors/{doctor.doctor_id}/approve",
        headers=operator.headers,
        json={"reason": "电话核实"},
    )
    assert approved.status_code == 200, approved.text
    approvals = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'doctor.approved' AND subject_id = $1",
        doctor.doctor_id,
    )
    assert approvals == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'rewritten'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
async def test_the_application_role_cannot_rewrite_audit(
    app: Litestar, client: httpx.AsyncClient, statement: str
) -> None:
    await client.post(
        "/api/accounts",
        json={"email": unique_email(), "password": STRONG_PASSWORD, "display_name": "Ann"},
    )
    async with app.state.services.db.connection() as connection:
        assert await connection.fetchval("SELECT current_user") == "medmarket_app"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(statement)
        # Not even by dropping the role it works as: it logged in as one that owns nothing.
        await connection.execute("SET ROLE NONE")
        assert await connection.fetchval("SELECT current_user") == "medmarket_web"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(statement)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await connection.execute("SET ROLE medmarket_app")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'rewritten'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
async def test_even_the_owner_is_stopped_by_the_trigger(database_url: str, statement: str) -> None:
    owner = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute(statement)
    finally:
        await owner.close()


async def test_operators_read_the_trail_filtered_and_paged(
    client: httpx.AsyncClient, operator: Account, sign_up: SignUp
) -> None:
    account: Account = await sign_up("patient")
    for _ in range(2):
        await client.post("/api/tokens", json={"email": account.email, "password": STRONG_PASSWORD})
    page = await client.get(
        "/api/audit",
        headers=operator.headers,
        params={"subject_type": "user", "subject_id": account.id, "limit": 2},
    )
    assert page.status_code == 200
    first = page.json()
    assert len(first) == 2 and first[0]["id"] > first[1]["id"]
    rest = await client.get(
        "/api/audit",
        headers=operator.headers,
        params={"subject_type": "user", "subject_id": account.id, "before_id": first[-1]["id"]},
    )
    assert [e["action"] for e in rest.json()][-1] == "account.signed_up"
    assert all(e["subject_id"] == account.id for e in first + rest.json())
    bad = await client.get("/api/audit", headers=operator.headers, params={"limit": 0})
    assert bad.status_code in (400, 422) and bad.json()["errors"][0]["field"] == "limit"
    assert uuid.UUID(account.id)
