"""The record keeps itself: the database allows exactly the state machine the service names,
refuses any change of what was written (to the application and to anyone else), and refuses
items or findings added to a prescription after it was issued."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal
from typing import get_args

import asyncpg
import pytest
from litestar import Litestar

from medmarket.db import Connection
from medmarket.prescriptions.states import TRANSITIONS, PrescriptionStatus
from medmarket.prescriptions.tests.helpers import AMLODIPINE, prescribe, visit_in_progress

STATUSES: tuple[str, ...] = get_args(PrescriptionStatus)
# A status with what goes with it (who voided it, when and why, for voided).
SET_STATUS = """
    UPDATE prescriptions
       SET status = $2, status_changed_at = now(),
           voided_at = CASE WHEN $2 = 'voided' THEN now() END,
           voided_by = CASE WHEN $2 = 'voided'
                            THEN (SELECT d.user_id FROM doctors d WHERE d.id = doctor_id) END,
           void_reason = CASE WHEN $2 = 'voided' THEN 'test' END
     WHERE id = $1
"""


async def test_the_trigger_allows_exactly_the_named_transitions(
    app: Litestar, superuser: Connection
) -> None:
    issued = await prescribe(app, await visit_in_progress(app))
    prescription_id = uuid.UUID(issued["id"])
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
            await superuser.execute(SET_STATUS, prescription_id, start)
            await superuser.execute("SET LOCAL session_replication_role = origin")
            try:
                await superuser.execute(SET_STATUS, prescription_id, target)
                allowed.add((start, target))
            except asyncpg.CheckViolationError as exc:
                refusals[(start, target)] = str(exc)
        finally:
            await transaction.rollback()
    assert allowed == set(TRANSITIONS)
    assert all(f"from {a} to {b}" in message for (a, b), message in refusals.items())


async def test_what_was_written_never_changes(app: Litestar, superuser: Connection) -> None:
    issued = await prescribe(app, await visit_in_progress(app))
    prescription_id = uuid.UUID(issued["id"])
    db = app.state.services.db  # as the application
    for statement in (
        "UPDATE prescriptions SET diagnosis = 'x' WHERE id = $1",
        "UPDATE prescriptions SET valid_until = valid_until + 1 WHERE id = $1",
        "UPDATE prescriptions SET document = '{}' WHERE id = $1",
        "DELETE FROM prescriptions WHERE id = $1",
        "UPDATE prescription_items SET dose = 50 WHERE prescription_id = $1",
        "DELETE FROM prescription_items WHERE prescription_id = $1",
        "UPDATE prescription_findings SET reason = 'x' WHERE prescription_id = $1",
        "DELETE FROM prescription_findings WHERE prescription_id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.execute(statement, prescription_id)
    # Not even the owner of the tables rewrites what was issued.
    for statement in (
        "UPDATE prescriptions SET diagnosis = 'x' WHERE id = $1",
        "UPDATE prescriptions SET expires_at = expires_at + interval '1 day' WHERE id = $1",
        "UPDATE prescriptions SET status_changed_at = now() - interval '1 day' WHERE id = $1",
    ):
        with pytest.raises(asyncpg.CheckViolationError, match="never changes"):
            await superuser.execute(statement, prescription_id)
    late_item = await db.fetchval(
        "SELECT count(*) FROM prescription_items WHERE prescription_id = $1", prescription_id
    )
    with pytest.raises(asyncpg.CheckViolationError, match="written with it"):
        await db.execute(
            """
            INSERT INTO prescription_items (prescription_id, position, drug_id, dose, dose_unit,
                   route, frequency, duration_days, quantity, quantity_unit)
            VALUES ($1, $2, $3, 1, 'tablet', 'oral', 'qd', 1, 1, 'tablet')
            """,
            prescription_id,
            late_item,
            uuid.UUID(AMLODIPINE),
        )
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "UPDATE prescriptions SET status = 'voided', status_changed_at = now() WHERE id = $1",
            prescription_id,
        )  # voided without who, when and why
    stored = await db.fetchval(
        "SELECT dose FROM prescription_items WHERE prescription_id = $1", prescription_id
    )
    assert stored == Decimal("5")
