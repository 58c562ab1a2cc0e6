"""What other domains hear of a booking, inside the booking's own transaction.

Bookings knows nothing of what builds on it. A domain that must act when a booking is
confirmed or ends (consults opens the visit's consultation, and closes its room when the
booking ends) implements ``BookingListener`` and provides it to ``BOOKING_LISTENERS`` in its
``domain.py``. The booking calls every listener with its connection, so what they do commits
or rolls back with the booking. Listeners must not call slow systems: queue outbox messages.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.services import Port


class BookingListener(Protocol):
    async def booking_confirmed(
        self, connection: Connection, booking_id: uuid.UUID, context: AuditContext
    ) -> None:
        """The booking was paid and is confirmed (called once per booking)."""
        ...

    async def booking_ended(
        self,
        connection: Connection,
        booking_id: uuid.UUID,
        status: str,
        ended_by: Principal | None,
    ) -> None:
        """The booking ended, however it ended (``status``: cancelled, completed, no_show,
        ...); ``ended_by`` is whoever ended it, None for the platform itself."""
        ...


BOOKING_LISTENERS: Port[BookingListener] = Port("booking listeners", many=True)
