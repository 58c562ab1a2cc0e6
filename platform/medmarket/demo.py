"""Demo data: a marketplace a newcomer can click through. Idempotent: running it twice
leaves the same data. Each domain adds its part here as it lands."""

from __future__ import annotations

import logging

from medmarket.accounts.passwords import Passwords
from medmarket.accounts.service import normalize_email
from medmarket.db import Database
from medmarket.doctors.demo_data import (
    DEMO_ONBOARDING_ACCOUNTS,
    HOSPITALS,
    seed_partner_hospitals,
)
from medmarket.domains import open_platform
from medmarket.drugs.seed import load_seed
from medmarket.patients.demo_data import seed_demo_patient
from medmarket.pharmacies.demo_data import seed_demo_pharmacies
from medmarket.scheduling.demo_data import seed_schedules
from medmarket.services import app_database
from medmarket.settings import Settings

log = logging.getLogger("medmarket.demo")

DEMO_PASSWORD = "medmarket-demo-2026"
DEMO_ACCOUNTS = [
    ("operator@demo.medmarket.cn", "operator", "平台运营 Ops"),
    ("patient@demo.medmarket.cn", "patient", "王小明"),
    ("pharmacist@demo.medmarket.cn", "pharmacist", "药师 李芳"),
]


async def _ensure_user(
    db: Database, passwords: Passwords, email: str, role: str, name: str, password: str
) -> None:
    email = normalize_email(email)
    exists = await db.fetchval("SELECT 1 FROM users WHERE email = $1", email)
    if exists:
        return
    await db.execute(
        "INSERT INTO users (email, password_hash, role, display_name) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (email) DO NOTHING",
        email,
        await passwords.hash(password),
        role,
        name,
    )


async def create_operator(settings: Settings, email: str, password: str, name: str) -> None:
    db = await app_database(settings)
    try:
        await _ensure_user(db, Passwords(settings), email, "operator", name, password)
    finally:
        await db.close()


async def seed_demo(settings: Settings) -> None:
    db, passwords = await app_database(settings), Passwords(settings)
    try:
        for email, role, name in DEMO_ACCOUNTS:
            await _ensure_user(db, passwords, email, role, name, DEMO_PASSWORD)
    finally:
        await db.close()
    async with open_platform(settings) as services:
        # Partner hospitals and approved doctors, through the real onboarding.
        await seed_partner_hospitals(services, DEMO_ACCOUNTS[0][0], DEMO_PASSWORD)
        # Prices, weekly schedules and two weeks of slots for the approved doctors.
        added = await seed_schedules(services)
        print(f"demo schedules: {added} new slots published")
        await seed_demo_patient(services, DEMO_ACCOUNTS[1][0])
        async with services.db.connection() as connection:
            added = await load_seed(connection)
        print(f"demo drug catalog: {added} new drugs from the essential-medicines list")
        # The first demo hospital's own pharmacy (the demo pharmacist works there) and an
        # independent one.
        await seed_demo_pharmacies(
            services, DEMO_ACCOUNTS[0][0], DEMO_ACCOUNTS[2][0], HOSPITALS[0].name
        )
    print(f"demo accounts (password: {DEMO_PASSWORD}):")
    for email, role, _ in [*DEMO_ACCOUNTS, *DEMO_ONBOARDING_ACCOUNTS]:
        print(f"  {role:15} {email}")
