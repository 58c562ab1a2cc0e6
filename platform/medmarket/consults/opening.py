"""Making a booking's consultation. Kept apart from the rest of the domain so the booking
service can call it without importing what builds on bookings."""

from __future__ import annotations

import uuid

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext


async def open_consultation(
    connection: asyncpg.Connection, booking_id: uuid.UUID, context: AuditContext
) -> uuid.UUID:
    """The consultation of a booking that has just been confirmed, made if it does not exist
    yet (one per booking: the database's unique key decides a race). Call it inside the
    transaction that confirms the booking."""
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
