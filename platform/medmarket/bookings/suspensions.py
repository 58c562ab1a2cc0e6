"""When a doctor is suspended (licence expired, affiliation ended, an operator's decision),
their future bookings are flagged and each patient is told, so nobody travels to a visit
that cannot take place. Runs from the outbox (``doctor.suspended``), at least once: a
booking is flagged once and each notice is keyed by the suspension."""

from __future__ import annotations

import msgspec

from medmarket import audit
from medmarket.audit.service import SYSTEM
from medmarket.db import Database
from medmarket.doctors.events import DoctorSuspended
from medmarket.notifications.service import notify
from medmarket.outbox.worker import Handler, OutboxMessage


async def flag_future_bookings(db: Database, event: DoctorSuspended) -> int:
    """Flag the doctor's live bookings that start after the suspension; returns how many."""
    reason = f"doctor_suspended:{event.reason_code}"
    async with db.transaction() as connection:
        flagged = await connection.fetch(
            """
            UPDATE bookings SET flagged_reason = $2
             WHERE doctor_id = $1 AND status IN ('held', 'confirmed')
               AND lower(during) > $3 AND flagged_reason IS NULL
            RETURNING id, booked_by, lower(during) AS starts_at
            """,
            event.doctor_id,
            reason,
            event.suspended_at,
        )
        for booking in flagged:
            await audit.record(
                connection,
                SYSTEM,
                "booking.flagged",
                "booking",
                booking["id"],
                detail={"reason": reason, "status_change_id": event.status_change_id},
            )
            await notify(
                connection,
                booking["booked_by"],
                "booking.doctor_suspended",
                {"starts_at": booking["starts_at"].isoformat()},
                dedupe_key=f"{event.status_change_id}:{booking['id']}",
                urgency="high",
            )
    return len(flagged)


def suspension_handler(db: Database) -> Handler:
    async def handle(message: OutboxMessage) -> None:
        await flag_future_bookings(db, msgspec.convert(message.payload, DoctorSuspended))

    return handle
