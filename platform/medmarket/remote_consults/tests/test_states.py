"""states.py and the triggers of migration 0091 name the same moves, for the case and for
each invitation."""

from __future__ import annotations

from typing import get_args

from medmarket.orders.tests.test_states import trigger_moves
from medmarket.remote_consults.states import (
    CASE_TRANSITIONS,
    INVITATION_TRANSITIONS,
    CaseStatus,
    InvitationStatus,
)

MIGRATION = "0091_remote_consultations.sql"


def test_the_code_and_the_database_move_a_case_alike() -> None:
    moves = trigger_moves(MIGRATION, "remote_consultations_move_forward")
    assert moves == set(CASE_TRANSITIONS)
    assert {status for move in moves for status in move} == set(get_args(CaseStatus))


def test_the_code_and_the_database_move_an_invitation_alike() -> None:
    moves = trigger_moves(MIGRATION, "remote_consultation_invitations_move_forward")
    assert moves == set(INVITATION_TRANSITIONS)
    assert {status for move in moves for status in move} == set(get_args(InvitationStatus))
