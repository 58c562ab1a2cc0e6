"""states.py and the trigger of migration 0076 name the same moves."""

from __future__ import annotations

from typing import get_args

from medmarket.delivery.interface import DeliveryStatus
from medmarket.delivery.states import MOVES, DeliveryState
from medmarket.orders.tests.test_states import trigger_moves


def test_the_code_and_the_database_allow_the_same_moves() -> None:
    assert trigger_moves("0076_deliveries.sql", "deliveries_move_forward") == MOVES


def test_every_status_a_courier_reports_is_a_state() -> None:
    assert set(get_args(DeliveryStatus)) <= set(get_args(DeliveryState))
