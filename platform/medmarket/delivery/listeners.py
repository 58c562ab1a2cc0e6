"""What a delivery's purpose hears of it, inside the transaction that records the event.

Delivery knows nothing of what it carries. A domain that sends things by courier (orders:
"pharmacy_order") implements ``DeliveryListener`` and provides it to ``DELIVERY_LISTENERS``
in its ``domain.py``; each event a courier reports is recorded once and heard once, by the
listener whose ``purpose`` the delivery names. Listeners must not call slow systems.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

import msgspec

from medmarket.db import Connection
from medmarket.delivery.interface import TrackingEvent
from medmarket.services import Port


class DeliveryView(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery as its purpose sees it, after the event was applied."""

    id: uuid.UUID
    reference: str
    courier_id: str
    purpose: str
    subject_id: uuid.UUID
    status: str
    tracking_number: str | None
    label_url: str | None
    dispatched_at: dt.datetime | None
    proof: dict[str, Any] | None
    failure_reason: str | None


class DeliveryListener(Protocol):
    purpose: str

    async def delivery_moved(
        self,
        connection: Connection,
        delivery: DeliveryView,
        event: TrackingEvent,
        moved: bool,
    ) -> None:
        """A new event of the delivery was recorded; ``moved`` is whether it changed the
        delivery's status (an event out of order, say "in_transit" after "delivered", is
        recorded but moves nothing)."""
        ...


def _one_per_purpose(listeners: Iterable[DeliveryListener]) -> None:
    seen: set[str] = set()
    for listener in listeners:
        if listener.purpose in seen:
            raise RuntimeError(f"two delivery listeners for {listener.purpose!r}")
        seen.add(listener.purpose)


DELIVERY_LISTENERS: Port[DeliveryListener] = Port(
    "delivery listeners", many=True, check=_one_per_purpose
)
