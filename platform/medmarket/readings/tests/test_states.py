"""states.py and the trigger of migration 0092 name the same moves, and the open statuses
are those the centre's queue index holds."""

from __future__ import annotations

import re
from importlib import resources
from typing import get_args

from medmarket.orders.tests.test_states import trigger_moves
from medmarket.readings.states import OPEN, TRANSITIONS, ReadingStatus

MIGRATION = "0092_readings.sql"


def test_the_code_and_the_database_allow_the_same_moves() -> None:
    moves = trigger_moves(MIGRATION, "reading_requests_move_forward")
    assert moves == set(TRANSITIONS)
    assert {status for move in moves for status in move} == set(get_args(ReadingStatus))


def test_the_open_statuses_are_those_the_queue_index_holds() -> None:
    sql = (resources.files("medmarket.db") / "migrations" / MIGRATION).read_text("utf-8")
    index = sql[sql.index("reading_requests_queue") :].split(";")[0]
    assert set(re.findall(r"'([a-z_]+)'", index)) == OPEN
