"""Who was in the room when, and what follows when the doctor never was.

Each app instance's signaling hub tells ``PresenceRecorder`` when a participant's connection
joins or leaves a room; it audits the event against the consultation and keeps when the
patient and the doctor were first there. ``flag_doctor_no_shows`` (a periodic job of the
worker) ends the consultations whose doctor neither joined nor admitted the patient by the end
of the slot plus a grace period, through the booking's doctor-no-show path: full refund, the
patient told.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Literal

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.audit.service import SYSTEM
from medmarket.bookings.endings import BookingEndings
from medmarket.bookings.listeners import BOOKING_LISTENERS
from medmarket.consults.room import RoomAnnouncer, Staged, status_key, status_message
from medmarket.db import Database, fetch_one
from medmarket.services import Services
from medmarket.signaling.rooms import RoomStore
from medmarket.signaling.tokens import RoomGrant

log = logging.getLogger("medmarket.consults")
NO_SHOW_BATCH = 100
NO_SHOW_NOTE = "the doctor did not join the consultation"


class PresenceRecorder:
    """A signaling presence observer (``SignalingHub.presence_observers``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, grant: RoomGrant, event: Literal["joined", "left"]) -> None:
        try:
            user_id = uuid.UUID(grant.participant_id)
        except ValueError:
            return  # not a consultation's participant (a robot or a benchmark)
        consultation_id = grant.consultation_id
        async with self.db.transaction() as connection:
            if event == "joined" and grant.role == "doctor":
                found = await connection.fetchval(
                    "UPDATE consultations SET doctor_joined_at = coalesce(doctor_joined_at, now())"
                    " WHERE id = $1 RETURNING id",
                    consultation_id,
                )
            elif event == "joined" and grant.role == "patient":
                found = await connection.fetchval(
                    "UPDATE consultations "
                    "SET patient_joined_at = coalesce(patient_joined_at, now()) "
                    "WHERE id = $1 RETURNING id",
                    consultation_id,
                )
            else:
                found = await connection.fetchval(
                    "SELECT id FROM consultations WHERE id = $1", consultation_id
                )
            if found is None:
                return  # a room of no consultation (the signaling's own tests)
            await audit.record(
                connection,
                AuditContext(actor_id=user_id, actor_role=grant.role),
                f"consultation.{event}",
                "consultation",
                consultation_id,
                consultation_id=consultation_id,
                detail={"role": grant.role},
            )


async def flag_doctor_no_shows(services: Services) -> int:
    """End, as a doctor no-show, every consultation whose doctor was not there by the slot's
    end plus ``consultation_doctor_grace_seconds``. Returns how many. Workers may run it at
    once: each booking is taken under SKIP LOCKED and checked again."""
    grace = dt.timedelta(seconds=services.settings.consultation_doctor_grace_seconds)
    due = await services.db.fetch(
        """
        SELECT c.id, c.booking_id
          FROM consultations c JOIN bookings b ON b.id = c.booking_id
         WHERE c.status IN ('scheduled', 'waiting') AND c.doctor_joined_at IS NULL
           AND b.status = 'confirmed' AND upper(b.during) + $1::interval < now()
         ORDER BY upper(b.during)
         LIMIT $2
        """,
        grace,
        NO_SHOW_BATCH,
    )
    announcer = RoomAnnouncer(
        RoomStore(services.redis, max_participants=services.settings.signaling_max_participants)
    )
    endings = BookingEndings(services.db, services.ports.collect(BOOKING_LISTENERS))
    flagged = 0
    for candidate in due:
        staged: Staged | None = None
        async with services.db.transaction() as connection:
            booking = await connection.fetchval(
                "SELECT id FROM bookings WHERE id = $1 AND status = 'confirmed' "
                "FOR UPDATE SKIP LOCKED",
                candidate["booking_id"],
            )
            row = await fetch_one(
                connection,
                """
                SELECT c.id, c.status, c.waiting_since, c.doctor_joined_at,
                       upper(b.during) AS ends_at, now() AS now
                  FROM consultations c JOIN bookings b ON b.id = c.booking_id
                 WHERE c.id = $1 FOR UPDATE OF c
                """,
                candidate["id"],
            )
            if (
                booking is None
                or row["status"] not in ("scheduled", "waiting")
                or row["doctor_joined_at"] is not None
                or row["ends_at"] + grace >= row["now"]
            ):
                continue  # another worker took it, or the doctor came after all
            await endings.doctor_no_show_in(connection, booking, NO_SHOW_NOTE, SYSTEM)
            await audit.record(
                connection,
                SYSTEM,
                "consultation.doctor_no_show",
                "consultation",
                row["id"],
                consultation_id=row["id"],
                detail={
                    "patient_waiting_since": (
                        row["waiting_since"].isoformat() if row["waiting_since"] else None
                    ),
                    "grace_seconds": int(grace.total_seconds()),
                },
            )
            staged = await announcer.stage(
                connection,
                row["id"],
                status_message("cancelled", None, None, row["now"]),
                status_key(row["id"], "cancelled"),
            )
        if staged is not None:
            await announcer.send(staged)
            flagged += 1
    return flagged
