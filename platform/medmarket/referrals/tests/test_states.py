"""states.py and the trigger of migration 0090 name the same moves, and the live statuses
are those the one-live-referral-per-visit index holds."""

from __future__ import annotations

import re
from importlib import resources
from typing import get_args

from medmarket.orders.tests.test_states import trigger_moves
from medmarket.referrals.states import LIVE, TRANSITIONS, ReferralStatus

MIGRATION = "0090_referrals.sql"


def test_the_code_and_the_database_allow_the_same_moves() -> None:
    moves = trigger_moves(MIGRATION, "referrals_move_forward")
    assert moves == set(TRANSITIONS)
    assert {status for move in moves for status in move} == set(get_args(ReferralStatus))


def test_the_live_statuses_are_those_the_unique_index_holds() -> None:
    sql = (resources.files("medmarket.db") / "migrations" / MIGRATION).read_text("utf-8")
    index = sql[sql.index("referrals_one_live_per_visit") :].split(";")[0]
    assert set(re.findall(r"'([a-z_]+)'", index)) == LIVE
