"""states.py and the trigger of migration 0080 name the same moves: the one the code walks
and the one the database enforces cannot drift apart."""

from __future__ import annotations

import re
from importlib import resources
from typing import get_args

from medmarket.orders.states import ENDED, TRANSITIONS, OrderStatus


def trigger_moves(migration: str, function: str) -> set[tuple[str, str]]:
    sql = (resources.files("medmarket.db") / "migrations" / migration).read_text("utf-8")
    body = sql[sql.index(f"CREATE FUNCTION {function}") :]
    body = body[: body.index("$$;")]
    listed = body[body.index("NOT IN (") :]
    return set(re.findall(r"\('([a-z_]+)', '([a-z_]+)'\)", listed))


def test_the_code_and_the_database_allow_the_same_moves() -> None:
    moves = trigger_moves("0080_pharmacy_orders.sql", "pharmacy_orders_move_forward")
    assert moves == set(TRANSITIONS)
    statuses = set(get_args(OrderStatus))
    assert {status for move in moves for status in move} == statuses


def test_the_ended_statuses_are_those_the_unique_index_lets_go() -> None:
    sql = (resources.files("medmarket.db") / "migrations" / "0080_pharmacy_orders.sql").read_text(
        "utf-8"
    )
    index = sql[sql.index("pharmacy_orders_one_per_prescription") :].split(";")[0]
    assert set(re.findall(r"'([a-z_]+)'", index)) == ENDED
