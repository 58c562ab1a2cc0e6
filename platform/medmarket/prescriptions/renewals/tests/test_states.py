"""The record keeps itself: the database allows exactly the state machine states.py names,
answers only before answer_due_at and expiry only after it, refuses any change of what was
asked, a request born in any status but requested, and a second open request for one
prescription."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import get_args

import asyncpg
import pytest
from litestar import Litestar

from medmarket.db import Connection
from medmarket.prescriptions.renewals.states import TRANSITIONS, RenewalStatus
from medmarket.prescriptions.renewals.tests.helpers import (
    earlier_prescription,
    ok,
    paid_request,
    requested,
)

STATUSES: tuple[str, ...] = get_args(RenewalStatus)
PAID = ("awaiting_doctor", "renewed", "visit_requested", "expired")
CLOSED = ("renewed", "visit_requested", "expired", "cancelled")
# A status with what goes with it; $3: how far from now the answer is due. PUT sets the
# paid columns afresh (the start of a move, without the trigger); MOVE keeps those a paid
# request has, as the application does.
SET_STATUS = """
    UPDATE prescription_renewals
       SET status = $2, status_changed_at = now(),
           paid_at = CASE WHEN $2 = ANY($4::text[]) THEN {paid_at} END,
           answer_due_at = CASE WHEN $2 = ANY($4::text[]) THEN {answer_due_at} END,
           closed_at = CASE WHEN $2 = ANY($5::text[]) THEN now() END,
           renewal_id = CASE WHEN $2 = 'renewed' THEN $6::uuid END,
           visit_message = CASE WHEN $2 = 'visit_requested' THEN '请来复诊' END
     WHERE id = $1
"""
PUT = SET_STATUS.format(paid_at="now() - interval '2 days'", answer_due_at="now() + $3")
MOVE = SET_STATUS.format(
    paid_at="coalesce(paid_at, now() - interval '2 days')",
    answer_due_at="coalesce(answer_due_at, now() + $3)",
)


async def _try_every_move(
    superuser: Connection, renewal_id: uuid.UUID, renewal: uuid.UUID, due_in: dt.timedelta
) -> tuple[set[tuple[str, str]], dict[tuple[str, str], str]]:
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
            args = (due_in, list(PAID), list(CLOSED), renewal)
            await superuser.execute(PUT, renewal_id, start, *args)
            await superuser.execute("SET LOCAL session_replication_role = origin")
            try:
                await superuser.execute(MOVE, renewal_id, target, *args)
                allowed.add((start, target))
            except asyncpg.CheckViolationError as exc:
                refusals[(start, target)] = str(exc)
        finally:
            await transaction.rollback()
    return allowed, refusals


async def test_the_trigger_allows_exactly_the_named_transitions(
    app: Litestar, superuser: Connection
) -> None:
    earlier = await earlier_prescription(app)
    renewal, _ = await paid_request(app, earlier)
    answered = await ok(app, "POST", f"/api/renewals/{renewal['id']}/approve", earlier.doctor, {})
    renewal_id, issued = uuid.UUID(renewal["id"]), uuid.UUID(answered["renewal_id"])

    # Before the answer is due the doctor answers, and nothing expires.
    allowed, refusals = await _try_every_move(superuser, renewal_id, issued, dt.timedelta(hours=1))
    assert allowed == set(TRANSITIONS) - {("awaiting_doctor", "expired")}
    assert "has not expired" in refusals[("awaiting_doctor", "expired")]
    assert all(
        f"from {a} to {b}" in message
        for (a, b), message in refusals.items()
        if (a, b) not in TRANSITIONS
    )
    # Once it is due, it only expires.
    allowed, refusals = await _try_every_move(superuser, renewal_id, issued, dt.timedelta(hours=-1))
    assert allowed == set(TRANSITIONS) - {
        ("awaiting_doctor", "renewed"),
        ("awaiting_doctor", "visit_requested"),
    }
    assert "has expired" in refusals[("awaiting_doctor", "renewed")]


async def test_what_was_asked_never_changes(app: Litestar, superuser: Connection) -> None:
    earlier = await earlier_prescription(app)
    renewal = await requested(app, earlier)
    renewal_id = uuid.UUID(renewal["id"])
    db = app.state.services.db  # as the application
    for statement in (
        "UPDATE prescription_renewals SET note = 'x' WHERE id = $1",
        "UPDATE prescription_renewals SET price_fen = 100 WHERE id = $1",
        "DELETE FROM prescription_renewals WHERE id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.execute(statement, renewal_id)
    for statement in (
        "UPDATE prescription_renewals SET note = 'x' WHERE id = $1",
        "UPDATE prescription_renewals SET pay_by = pay_by + interval '1 day' WHERE id = $1",
    ):
        with pytest.raises(asyncpg.CheckViolationError, match=r"never changes|only as"):
            await superuser.execute(statement, renewal_id)
    with pytest.raises(asyncpg.CheckViolationError, match="asked for before"):
        await superuser.execute(
            """
            INSERT INTO prescription_renewals (prescription_id, patient_id, doctor_id,
                   requested_by, note, price_fen, pay_by, status, paid_at, answer_due_at)
            SELECT prescription_id, patient_id, doctor_id, requested_by, note, price_fen,
                   pay_by, 'awaiting_doctor', now(), now() + interval '1 day'
              FROM prescription_renewals WHERE id = $1
            """,
            renewal_id,
        )
    # One open request per prescription, whoever inserts it.
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(
            """
            INSERT INTO prescription_renewals (prescription_id, patient_id, doctor_id,
                   requested_by, note, price_fen, pay_by)
            SELECT prescription_id, patient_id, doctor_id, requested_by, note, price_fen, pay_by
              FROM prescription_renewals WHERE id = $1
            """,
            renewal_id,
        )
    # A request names the prescription's own patient and doctor.
    other = await earlier_prescription(app)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute(
            """
            INSERT INTO prescription_renewals (prescription_id, patient_id, doctor_id,
                   requested_by, note, price_fen, pay_by)
            SELECT $2, patient_id, doctor_id, requested_by, note, price_fen, pay_by
              FROM prescription_renewals WHERE id = $1
            """,
            renewal_id,
            uuid.UUID(other.id),
        )
