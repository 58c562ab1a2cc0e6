"""A delivery's state machine, as the trigger of migration 0076 enforces it (a test compares
the two).

requested (committed, the courier not yet asked) → created (the courier has the waybill) →
picked_up → in_transit → delivered, or → failed → returned; a courier may skip steps it does
not report (created → delivered), and a failed delivery may be tried again (failed →
in_transit, failed → delivered). requested or created → cancelled. Delivered, returned and
cancelled are final.
"""

from __future__ import annotations

from typing import Literal

DeliveryState = Literal[
    "requested",
    "created",
    "picked_up",
    "in_transit",
    "delivered",
    "failed",
    "returned",
    "cancelled",
]

MOVES: frozenset[tuple[str, str]] = frozenset(
    {
        ("requested", "created"),
        ("requested", "cancelled"),
        ("created", "picked_up"),
        ("created", "in_transit"),
        ("created", "delivered"),
        ("created", "failed"),
        ("created", "cancelled"),
        ("picked_up", "in_transit"),
        ("picked_up", "delivered"),
        ("picked_up", "failed"),
        ("in_transit", "delivered"),
        ("in_transit", "failed"),
        ("failed", "returned"),
        ("failed", "in_transit"),
        ("failed", "delivered"),
    }
)
# Parcels the polling job asks about.
ON_THEIR_WAY: frozenset[str] = frozenset({"created", "picked_up", "in_transit", "failed"})


def may_move(current: str, target: str) -> bool:
    return (current, target) in MOVES
