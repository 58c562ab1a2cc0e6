"""The state machine lives in the database too: the trigger allows exactly the transitions the
service names, and an application's history and checks cannot be rewritten."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import get_args

import asyncpg
import pytest
from litestar import Litestar

from medmarket.doctors.schemas import DoctorStatus
from medmarket.doctors.states import TRANSITIONS
from medmarket.tests.support.factories import approved_doctor

STATUSES: tuple[str, ...] = get_args(DoctorStatus)


@pytest.fixture
async def superuser(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the migrating user, which may switch triggers off to set up a state."""
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def test_the_trigger_allows_exactly_the_named_transitions(
    app: Litestar, superuser: asyncpg.Connection
) -> None:
    doctor = await approved_doctor(app)
    allowed: set[tuple[str, str]] = set()
    refusals: dict[tuple[str, str], str] = {}
    for start, target in itertools.product(STATUSES, STATUSES):
        if start == target:
            continue
        transaction = superuser.transaction()
        await transaction.start()
        try:
            # Put the row in ``start`` without the trigger, then try the move with it.
            await superuser.execute("SET LOCAL session_replication_role = replica")
            await superuser.execute(
                "UPDATE doctors SET status = $2 WHERE id = $1::uuid", doctor.doctor_id, start
            )
            await superuser.execute("SET LOCAL session_replication_role = origin")
            try:
                await superuser.execute(
                    "UPDATE doctors SET status = $2 WHERE id = $1::uuid", doctor.doctor_id, target
                )
                allowed.add((start, target))
            except asyncpg.CheckViolationError as exc:
                refusals[(start, target)] = str(exc)
        finally:
            await transaction.rollback()
    assert allowed == set(TRANSITIONS)
    assert all(f"from {a} to {b}" in message for (a, b), message in refusals.items())


async def test_the_application_cannot_rewrite_history_or_checks(app: Litestar) -> None:
    doctor = await approved_doctor(app)
    db = app.state.services.db  # works as the application role
    for table in ("doctor_status_changes", "doctor_checks"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.execute(f"DELETE FROM {table} WHERE doctor_id = $1::uuid", doctor.doctor_id)  # noqa: S608
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.execute(
                f"UPDATE {table} SET doctor_id = doctor_id WHERE doctor_id = $1::uuid",  # noqa: S608
                doctor.doctor_id,
            )
