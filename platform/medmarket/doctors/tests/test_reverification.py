"""The daily re-verification: reminders before a licence expires (once per window), automatic
suspension when it has expired or the affiliation ended, nothing decided on a hospital's
silence but what its earlier dates already say, stalled verifications resumed."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar

from medmarket.db import fetch_one
from medmarket.doctors.events import DOCTOR_SUSPENDED, DoctorSuspended
from medmarket.doctors.reverification import claim_day, finish_day, reverify_all, tick
from medmarket.doctors.tests.helpers import is_bookable, notifications, outbox
from medmarket.doctors.verification import platform_today
from medmarket.domains import DOMAINS, outbox_handlers
from medmarket.jobs import Job, run_periodically
from medmarket.outbox.worker import OutboxWorker
from medmarket.services import Services
from medmarket.settings import Settings
from medmarket.tests.support.factories import (
    DoctorAccount,
    HospitalHandle,
    add_staff,
    approved_doctor,
    draft_doctor,
    hospital_with_demo_adapter,
    platform_day,
    staff_record,
)
from medmarket.tests.support.fixtures import client_for


async def approved_with(app: Litestar, **record: Any) -> tuple[HospitalHandle, DoctorAccount]:
    """An approved doctor, whose hospital record then changes to ``record``."""
    hospital = await hospital_with_demo_adapter(app)
    doctor = await approved_doctor(app, hospital=hospital, full_name="孙悦")
    if record:
        await add_staff(
            app,
            hospital,
            staff_record(licence_number=doctor.licence_number, full_name="孙悦", **record),
        )
    return hospital, doctor


def services_of(app: Litestar) -> Services:
    services: Services = app.state.services
    return services


async def status_of(app: Litestar, doctor: DoctorAccount) -> str:
    status: str = await services_of(app).db.fetchval(
        "SELECT status FROM doctors WHERE id = $1::uuid", doctor.doctor_id
    )
    return status


async def test_a_good_standing_doctor_stays_and_is_verified_again(app: Litestar) -> None:
    hospital, doctor = await approved_with(app)
    summary = await reverify_all(services_of(app), hospital_id=uuid.UUID(hospital.id))
    assert (summary.checked, summary.confirmed, summary.suspended) == (1, 1, 0)
    assert await status_of(app, doctor) == "approved"
    async with client_for(app) as http:
        runs = await http.get(
            f"/api/onboarding/doctors/{doctor.doctor_id}/checks", headers=doctor.headers
        )
    assert [run["purpose"] for run in runs.json()] == ["reverification", "application"]


async def test_an_expiring_licence_is_reminded_once_per_window(app: Litestar) -> None:
    hospital, doctor = await approved_with(app, licence_valid_days=20)
    services = services_of(app)
    hospital_id = uuid.UUID(hospital.id)
    first = await reverify_all(services, hospital_id=hospital_id)
    again = await reverify_all(services, hospital_id=hospital_id)
    assert (first.reminded, again.reminded) == (1, 0)
    [notice] = await notifications(app, doctor.user_id, "doctor.licence_expiring")
    assert notice.params["days_left"] == "20"
    assert notice.urgency == "normal"
    # Within the last week: one more, and urgent.
    last_week = platform_day() + dt.timedelta(days=15)
    assert (await reverify_all(services, today=last_week, hospital_id=hospital_id)).reminded == 1
    reminders = await notifications(app, doctor.user_id, "doctor.licence_expiring")
    assert [(n.params["days_left"], n.urgency) for n in reminders] == [
        ("20", "normal"),
        ("5", "high"),
    ]
    assert await status_of(app, doctor) == "approved"


async def test_an_expired_licence_suspends_and_flags_bookings(app: Litestar) -> None:
    hospital, doctor = await approved_with(app, licence_valid_days=3)
    later = platform_day() + dt.timedelta(days=4)
    summary = await reverify_all(services_of(app), today=later, hospital_id=uuid.UUID(hospital.id))
    assert summary.suspended == 1
    assert await status_of(app, doctor) == "suspended"
    assert not await is_bookable(app, doctor.doctor_id)
    [event] = await outbox(app, DOCTOR_SUSPENDED, doctor_id=doctor.doctor_id)
    assert msgspec.convert(event, DoctorSuspended).reason_code == "licence_expired"
    [notice] = await notifications(app, doctor.user_id, "doctor.suspended")
    assert notice.urgency == "high" and notice.params["reason_code"] == "licence_expired"
    async with client_for(app) as http:
        mine = (await http.get("/api/doctor/application", headers=doctor.headers)).json()
    last = mine["history"][-1]
    assert (last["to_status"], last["reason_code"], last["actor_role"]) == (
        "suspended",
        "licence_expired",
        "system",
    )
    assert "过期" in mine["status_reason"]
    # Running again changes nothing.
    again = await reverify_all(services_of(app), today=later, hospital_id=uuid.UUID(hospital.id))
    assert again.checked == 0
    assert len(await outbox(app, DOCTOR_SUSPENDED, doctor_id=doctor.doctor_id)) == 1


async def test_an_ended_affiliation_suspends(app: Litestar) -> None:
    yesterday = platform_day() - dt.timedelta(days=1)
    hospital, doctor = await approved_with(app, affiliation_ends_on=yesterday)
    await reverify_all(services_of(app), hospital_id=uuid.UUID(hospital.id))
    row = await fetch_one(
        services_of(app).db,
        "SELECT status, status_reason_code, affiliation_ends_on FROM doctors WHERE id = $1::uuid",
        doctor.doctor_id,
    )
    assert dict(row) == {
        "status": "suspended",
        "status_reason_code": "affiliation_ended",
        "affiliation_ends_on": yesterday,
    }


async def test_a_revoked_licence_suspends(app: Litestar) -> None:
    hospital, doctor = await approved_with(app, licence_active=False)
    await reverify_all(services_of(app), hospital_id=uuid.UUID(hospital.id))
    assert await status_of(app, doctor) == "suspended"


async def test_a_silent_hospital_decides_nothing_but_its_dates_still_count(
    unreliable_app: Litestar,
) -> None:
    hospital = await hospital_with_demo_adapter(unreliable_app)
    doctor = await approved_doctor(unreliable_app, hospital=hospital)
    async with client_for(unreliable_app) as http:
        down = await http.put(
            f"/api/hospitals/{hospital.id}/adapter",
            headers=hospital.admin.headers,
            json={"type": "down", "config": {}},
        )
        assert down.status_code == 200
    services = services_of(unreliable_app)
    hospital_id = uuid.UUID(hospital.id)
    summary = await reverify_all(services, hospital_id=hospital_id)
    assert (summary.checked, summary.inconclusive, summary.suspended) == (1, 1, 0)
    assert await status_of(unreliable_app, doctor) == "approved"
    # The licence the hospital confirmed earlier runs out: that needs no answer.
    expiry = await services.db.fetchval(
        "SELECT licence_expires_on FROM doctors WHERE id = $1::uuid", doctor.doctor_id
    )
    later = await reverify_all(
        services, today=expiry + dt.timedelta(days=1), hospital_id=hospital_id
    )
    assert later.suspended == 1
    [event] = await outbox(unreliable_app, DOCTOR_SUSPENDED, doctor_id=doctor.doctor_id)
    assert event["reason_code"] == "licence_expired"


async def test_a_stalled_verification_is_resumed(app: Litestar) -> None:
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, full_name="吴昊")
    await add_staff(
        app, hospital, staff_record(licence_number=doctor.licence_number, full_name="吴昊")
    )
    # As if the process asking the hospital died after 'verifying' was committed.
    superuser = await asyncpg.connect(app.state.settings.database_url)
    hospital_id = uuid.UUID(hospital.id)
    try:
        await superuser.execute(
            "UPDATE doctors SET status = 'submitted' WHERE id = $1::uuid", doctor.doctor_id
        )
        await superuser.execute(
            "UPDATE doctors SET status = 'verifying', verification_run = gen_random_uuid() "
            "WHERE id = $1::uuid",
            doctor.doctor_id,
        )
        # A recent one is left alone: its process may still be asking.
        assert (await reverify_all(services_of(app), hospital_id=hospital_id)).resumed == 0
        assert await status_of(app, doctor) == "verifying"
        await superuser.execute(
            "UPDATE doctors SET updated_at = now() - interval '1 hour' WHERE id = $1::uuid",
            doctor.doctor_id,
        )
    finally:
        await superuser.close()
    summary = await reverify_all(services_of(app), hospital_id=hospital_id)
    assert summary.resumed == 1
    assert await status_of(app, doctor) == "approved"


async def test_one_worker_claims_each_day(app: Litestar) -> None:
    services = services_of(app)
    day = dt.date(1999, 1, 1) + dt.timedelta(days=uuid.uuid4().int % 3000)
    assert await claim_day(services, day) is True
    assert await claim_day(services, day) is False
    summary = await reverify_all(services, today=day, hospital_id=uuid.uuid4())
    await finish_day(services, summary)
    assert await claim_day(services, day) is False
    stored = await services.db.fetchval(
        "SELECT summary FROM scheduled_job_runs WHERE job = 'doctor_reverification' "
        "AND run_on = $1",
        day,
    )
    assert stored["day"] == day.isoformat()


async def test_the_worker_delivers_suspension_events(app: Litestar) -> None:
    hospital, doctor = await approved_with(app, licence_active=False)
    services = services_of(app)
    await reverify_all(services, hospital_id=uuid.UUID(hospital.id))
    worker = OutboxWorker(
        services.db, outbox_handlers(DOMAINS, services), lease_seconds=30, max_attempts=3
    )
    for _ in range(100):
        await worker.run_once()
        pending = await services.db.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = $1 AND payload ->> 'doctor_id' = $2 "
            "AND delivered_at IS NULL",
            DOCTOR_SUSPENDED,
            doctor.doctor_id,
        )
        if pending == 0:
            break
    assert pending == 0
    error = await services.db.fetchval(
        "SELECT last_error FROM outbox WHERE topic = $1 AND payload ->> 'doctor_id' = $2",
        DOCTOR_SUSPENDED,
        doctor.doctor_id,
    )
    assert error is None


def test_the_reverify_command_prints_its_summary(settings: Settings) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "MEDMARKET_SECRET_KEY": settings.secret_key,
        "MEDMARKET_DATA_DIR": settings.data_dir,
    }
    hospital = str(uuid.uuid4())  # a hospital with no doctors: nothing changes
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "medmarket.cli",
            "reverify",
            "--date",
            "2030-01-02",
            "--hospital",
            hospital,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["day"] == "2030-01-02" and summary["checked"] == 0
    bad = subprocess.run(
        [sys.executable, "-m", "medmarket.cli", "reverify", "--date", "yesterday"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


async def test_reverification_is_visible_to_the_hospital_admin(app: Litestar) -> None:
    hospital, doctor = await approved_with(app, licence_active=False)
    await reverify_all(services_of(app), hospital_id=uuid.UUID(hospital.id))
    async with client_for(app) as http:
        shown = await http.get(
            f"/api/onboarding/doctors/{doctor.doctor_id}", headers=hospital.admin.headers
        )
    body = shown.json()
    assert body["status"] == "suspended"
    assert body["latest_checks"]["purpose"] == "reverification"
    assert await notifications(app, hospital.admin.id, "hospital.doctor_suspended")


async def test_the_worker_resumes_stalled_verifications_between_daily_runs(app: Litestar) -> None:
    services = services_of(app)
    # Today's daily run is someone else's (claimed), so the poll only resumes.
    await claim_day(services, platform_today(services.settings))
    hospital = await hospital_with_demo_adapter(app)
    doctor = await draft_doctor(app, hospital, full_name="郑爽")
    await add_staff(
        app, hospital, staff_record(licence_number=doctor.licence_number, full_name="郑爽")
    )
    superuser = await asyncpg.connect(app.state.settings.database_url)
    try:
        await superuser.execute(
            "UPDATE doctors SET status = 'submitted' WHERE id = $1::uuid", doctor.doctor_id
        )
        await superuser.execute(
            "UPDATE doctors SET status = 'verifying', verification_run = gen_random_uuid(), "
            "updated_at = now() - interval '1 hour' WHERE id = $1::uuid",
            doctor.doctor_id,
        )
    finally:
        await superuser.close()
    stop = asyncio.Event()
    job = Job("doctor re-verification", 0.05, tick)
    task = asyncio.create_task(run_periodically(services, job, stop))
    try:
        for _ in range(200):
            if await status_of(app, doctor) != "verifying":
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert await status_of(app, doctor) == "approved"
