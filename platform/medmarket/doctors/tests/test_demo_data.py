"""The demo has two partner hospitals and approved doctors across specialties, made by the
real onboarding, and seeding it again changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from medmarket import ReferralRequest
from medmarket.db import fetch_one
from medmarket.db.migrate import migrate
from medmarket.demo import seed_demo
from medmarket.domains import open_platform
from medmarket.hospitals.adapters import connect
from medmarket.testing import sample_referral
from medmarket.tests.support.databases import create_database, drop_database
from medmarket.tests.support.fixtures import make_settings


@pytest.fixture
async def fresh_database(server_dsn: str) -> AsyncIterator[str]:
    dsn = await create_database(server_dsn, prefix="mm_demo")
    await migrate(dsn)
    yield dsn
    await drop_database(dsn)


async def test_demo_has_hospitals_and_approved_doctors(fresh_database: str, tmp_path: Path) -> None:
    settings = make_settings(fresh_database, data_dir=str(tmp_path))
    await seed_demo(settings)
    connection = await asyncpg.connect(fresh_database)
    try:
        hospitals = await connection.fetch("SELECT name, adapter_type FROM hospitals ORDER BY name")
        doctors = await connection.fetch(
            "SELECT d.status, d.specialties, h.name AS hospital FROM doctors d "
            "JOIN hospitals h ON h.id = d.hospital_id"
        )
        admins = await connection.fetchval("SELECT count(*) FROM hospital_admins")
        bookable = await connection.fetchval(
            "SELECT count(DISTINCT d.id) FROM doctors d JOIN consult_offerings o "
            "ON o.doctor_id = d.id JOIN slots s ON s.doctor_id = d.id "
            "WHERE s.starts_at > now() AND s.state = 'open'"
        )
        patient = await fetch_one(
            connection,
            "SELECT (SELECT count(*) FROM patients p WHERE p.account_id = u.id) AS people, "
            "(SELECT count(*) FROM health_data_consents c WHERE c.account_id = u.id "
            "AND c.withdrawn_at IS NULL) AS consents FROM users u "
            "WHERE u.email = 'patient@demo.medmarket.cn'",
        )
        counts = await fetch_one(
            connection,
            "SELECT (SELECT count(*) FROM users) AS users, "
            "(SELECT count(*) FROM audit_events) AS events, "
            "(SELECT count(*) FROM doctor_checks) AS checks, "
            "(SELECT count(*) FROM slots) AS slots",
        )
        await seed_demo(settings)
        again = await fetch_one(
            connection,
            "SELECT (SELECT count(*) FROM users) AS users, "
            "(SELECT count(*) FROM audit_events) AS events, "
            "(SELECT count(*) FROM doctor_checks) AS checks, "
            "(SELECT count(*) FROM slots) AS slots",
        )
    finally:
        await connection.close()
    assert len(hospitals) == 2
    assert {row["adapter_type"] for row in hospitals} == {"demo-registry"}
    assert admins == 2
    assert len(doctors) >= 5
    assert {row["status"] for row in doctors} == {"approved"}
    assert {row["hospital"] for row in doctors} == {row["name"] for row in hospitals}
    specialties = {specialty for row in doctors for specialty in row["specialties"]}
    assert {"心内科", "儿科", "内分泌科", "皮肤科", "呼吸内科"} <= specialties
    assert dict(again) == dict(counts)
    # Every demo doctor can be booked at once, by a demo patient who is ready to book.
    assert bookable == len(doctors)
    assert (patient["people"], patient["consents"]) == (2, 1)
    # Their documents are real files in the data directory.
    files = [path for path in (tmp_path / "documents").rglob("*") if path.is_file()]
    assert len(files) == 2 * len(doctors)


async def test_demo_hospitals_take_referrals_from_their_calendars(
    fresh_database: str, tmp_path: Path
) -> None:
    """Each demo hospital has a referral clinic per department: it accepts a referral to one
    with a green-channel ticket, and refuses one to a department it does not have."""
    settings = make_settings(fresh_database, data_dir=str(tmp_path))
    await seed_demo(settings)

    def asking(referral_id: str, department: str) -> ReferralRequest:
        return sample_referral(
            referral_id=referral_id, department=department, requested_at=dt.datetime.now(dt.UTC)
        )

    async with open_platform(settings) as services:
        rows = await services.db.fetch(
            "SELECT id, adapter_type, adapter_config, departments FROM hospitals ORDER BY name"
        )
        for row in rows:
            async with connect(
                services.plugins, row["id"], row["adapter_type"], row["adapter_config"]
            ) as hospital:
                accepted = await hospital.accept_referral(
                    asking(f"demo-{row['id']}-1", row["departments"][0])
                )
                refused = await hospital.accept_referral(asking(f"demo-{row['id']}-2", "骨科"))
            assert accepted.status == "accepted" and accepted.appointment is not None
            assert accepted.appointment.ticket and "转诊门诊" in accepted.appointment.place
            assert refused.status == "refused" and refused.reason_code == "department_unknown"
