"""The database itself keeps both state machines: every move states.py names goes through,
every other one is refused by the trigger, whatever the code does; what the requester asked
stays as written, and the app may not delete a case."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, get_args

import asyncpg
import pytest
from litestar import Litestar

from medmarket.remote_consults.states import (
    CASE_TRANSITIONS,
    INVITATION_TRANSITIONS,
    CaseStatus,
    InvitationStatus,
)
from medmarket.remote_consults.tests.helpers import experts, open_case, visit_under_way

# Columns that let a case stand in any status (the table's checks), so only the trigger
# decides whether it may move.
CASE_COPY = """
    INSERT INTO remote_consultations
           (requester_id, requester_hospital_id, patient_id, booking_id, question,
            clinical_history, urgency, proposed_times, consent_how, consent_at, status,
            scheduled_at, cancel_reason, decision, decided_at)
    SELECT requester_id, requester_hospital_id, patient_id, booking_id, question,
           clinical_history, urgency, proposed_times, consent_how, consent_at, $2,
           proposed_times[1], 'test',
           CASE WHEN $2 IN ('opinions', 'decided') THEN 'test' END,
           CASE WHEN $2 IN ('opinions', 'decided') THEN now() END
      FROM remote_consultations WHERE id = $1
    RETURNING id
"""
INVITATION_COPY = """
    INSERT INTO remote_consultation_invitations
           (consultation_id, expert_id, status, accepted_time, proposed_time, decline_reason)
    VALUES ($1, $2, $3,
            CASE WHEN $3 = 'accepted' THEN now() END,
            CASE WHEN $3 = 'proposed' THEN now() END,
            CASE WHEN $3 = 'declined' THEN 'test' END)
    RETURNING id
"""
TRANSITION = "remote_consultations_status_transition"
INVITATION_TRANSITION = "remote_consultation_invitations_status_transition"
# What a move sets with it, so the table's checks hold after an allowed move.
INVITATION_MOVE = """
    UPDATE remote_consultation_invitations
       SET status = $2,
           accepted_time = CASE WHEN $2 = 'accepted' THEN now() END,
           proposed_time = CASE WHEN $2 = 'proposed' THEN now() END,
           decline_reason = CASE WHEN $2 = 'declined' THEN 'test' END
     WHERE id = $1
"""


@asynccontextmanager
async def rolled_back(app: Litestar) -> AsyncIterator[Any]:
    """A connection in a transaction that is rolled back: the rows a test makes are not kept."""
    async with app.state.services.db.connection() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            yield connection
        finally:
            await transaction.rollback()


async def refusal(connection: Any, statement: str, *args: Any) -> str | None:
    """The constraint that refused the statement; None when it went through."""
    try:
        async with connection.transaction():
            await connection.execute(statement, *args)
    except asyncpg.CheckViolationError as refused:
        return str(refused.constraint_name)
    return None


async def test_the_database_moves_a_case_only_as_states_py_says(app: Litestar) -> None:
    visit = await visit_under_way(app)
    case = await open_case(app, visit, await experts(app, 1))
    statuses: tuple[CaseStatus, ...] = get_args(CaseStatus)
    async with rolled_back(app) as connection:
        for current, target in itertools.permutations(statuses, 2):
            copy = await connection.fetchval(CASE_COPY, uuid.UUID(case["id"]), current)
            refused = await refusal(
                connection,
                "UPDATE remote_consultations SET status = $2 WHERE id = $1",
                copy,
                target,
            )
            expected = None if (current, target) in CASE_TRANSITIONS else TRANSITION
            assert refused == expected, (current, target)


async def test_the_database_moves_an_invitation_only_as_states_py_says(app: Litestar) -> None:
    visit = await visit_under_way(app)
    case = await open_case(app, visit, await experts(app, 1))
    statuses: tuple[InvitationStatus, ...] = get_args(InvitationStatus)
    others = await experts(app, len(statuses) * (len(statuses) - 1))
    async with rolled_back(app) as connection:
        pairs = itertools.permutations(statuses, 2)
        for (current, target), expert in zip(pairs, others, strict=True):
            copy = await connection.fetchval(
                INVITATION_COPY, uuid.UUID(case["id"]), uuid.UUID(expert.id), current
            )
            refused = await refusal(connection, INVITATION_MOVE, copy, target)
            expected = (
                None if (current, target) in INVITATION_TRANSITIONS else INVITATION_TRANSITION
            )
            assert refused == expected, (current, target)


async def test_what_was_asked_stays_as_written_and_the_case_is_kept(app: Litestar) -> None:
    visit = await visit_under_way(app)
    case = await open_case(app, visit, await experts(app, 1))
    async with app.state.services.db.connection() as connection:
        with pytest.raises(asyncpg.CheckViolationError, match="keeps what the requester asked"):
            await connection.execute(
                "UPDATE remote_consultations SET question = 'changed' WHERE id = $1",
                uuid.UUID(case["id"]),
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # DELETE is revoked
            await connection.execute(
                "DELETE FROM remote_consultations WHERE id = $1", uuid.UUID(case["id"])
            )
