"""The consultation follows its booking: one is made when the booking is confirmed, and its
room is told (and closes) when the booking ends. Bookings calls this as one of its
``BOOKING_LISTENERS``, in the booking's transaction."""

from __future__ import annotations

import uuid

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.consults.room import stage_final_status
from medmarket.db import Connection


class ConsultationFollowsBooking:
    async def booking_confirmed(
        self, connection: Connection, booking_id: uuid.UUID, context: AuditContext
    ) -> None:
        await open_consultation(connection, booking_id, context)

    async def booking_ended(
        self,
        connection: Connection,
        booking_id: uuid.UUID,
        status: str,
        ended_by: Principal | None,
    ) -> None:
        consultation_id = await connection.fetchval(
            "SELECT id FROM consultations WHERE booking_id = $1", booking_id
        )
        if consultation_id is not None:  # it follows the booking (a trigger): its room closes
            await stage_final_status(
                connection,
                consultation_id,
                status,
                ended_by.user_id if ended_by else None,
                ended_by.role if ended_by and ended_by.role in ("patient", "doctor") else None,
            )


async def open_consultation(
    connection: Connection, booking_id: uuid.UUID, context: AuditContext
) -> uuid.UUID:
    """The consultation of a booking that has just been confirmed, made if it does not exist
    yet (one per booking: the database's unique key decides a race)."""
    created = await connection.fetchval(
        "INSERT INTO consultations (booking_id) VALUES ($1) "
        "ON CONFLICT (booking_id) DO NOTHING RETURNING id",
        booking_id,
    )
    if created is None:
        existing = await connection.fetchval(
            "SELECT id FROM consultations WHERE booking_id = $1", booking_id
        )
        return uuid.UUID(str(existing))
    await audit.record(
        connection,
        context,
        "consultation.scheduled",
        "consultation",
        created,
        consultation_id=created,
        detail={"booking_id": str(booking_id)},
    )
    return uuid.UUID(str(created))
