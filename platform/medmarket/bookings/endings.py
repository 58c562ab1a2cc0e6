"""How bookings end before or at the visit: cancelled by the patient (per the doctor's
policy) or the doctor (full refund), a doctor who did not attend (full refund), and the
doctor's outcome of the visit. A refund is requested through the outbox in the same
transaction, so it can neither be lost nor issued twice (it carries the booking's key)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import asyncpg

from medmarket import audit, outbox
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.bookings.cancellation import LIVE, outcome_opens_at, patient_refund_percent
from medmarket.bookings.listeners import BookingListener
from medmarket.bookings.payments import settle_ended_booking
from medmarket.bookings.queries import BOOKING_SELECT, booking_out
from medmarket.bookings.schemas import BookingOut, Outcome
from medmarket.bookings.service import booking_for_update
from medmarket.db import Connection, Database, fetch_one
from medmarket.errors import Conflict, InvalidInput, NotFound
from medmarket.notifications.service import notify


class BookingEndings:
    def __init__(self, db: Database, listeners: Sequence[BookingListener]) -> None:
        self.db = db
        self.listeners = listeners

    # -- cancelling -------------------------------------------------------------------------
    async def cancel_by_patient(
        self, principal: Principal, booking_id: uuid.UUID, reason: str, context: AuditContext
    ) -> BookingOut:
        async with self.db.transaction() as connection:
            row = await booking_for_update(connection, booking_id, principal.user_id, "patient")
            now = dt.datetime.now(dt.UTC)
            if row["status"] not in LIVE:
                raise Conflict(f"this booking is already {row['status']}", field="status")
            if row["starts_at"] <= now:
                raise Conflict("the visit has begun; it can no longer be cancelled", field="status")
            percent = patient_refund_percent(
                row["status"],
                row["starts_at"],
                row["free_cancel_hours"],
                row["late_cancel_refund_percent"],
                now,
            )
            await self._end(
                connection,
                row,
                "cancelled",
                "patient_cancelled",
                reason,
                percent,
                principal,
                context,
                slot_state="open",
            )
            await notify(
                connection,
                row["doctor_user_id"],
                "booking.cancelled_by_patient",
                {"starts_at": row["starts_at"].isoformat()},
                dedupe_key=str(booking_id),
            )
            result = await fetch_one(connection, BOOKING_SELECT + " WHERE b.id = $1", booking_id)
        return booking_out(result, "patient")

    async def cancel_by_doctor(
        self, principal: Principal, booking_id: uuid.UUID, reason: str, context: AuditContext
    ) -> BookingOut:
        if not reason.strip():
            raise InvalidInput("tell the patient why", field="reason")
        async with self.db.transaction() as connection:
            row = await booking_for_update(connection, booking_id, principal.user_id, "doctor")
            if row["status"] not in LIVE:
                raise Conflict(f"this booking is already {row['status']}", field="status")
            if row["ends_at"] <= dt.datetime.now(dt.UTC):
                raise Conflict("this visit is over", field="status")
            percent = 100 if row["status"] == "confirmed" else None
            # The doctor is not available then: the time is not offered again.
            await self._end(
                connection,
                row,
                "cancelled",
                "doctor_cancelled",
                reason,
                percent,
                principal,
                context,
                slot_state="withdrawn",
            )
            await notify(
                connection,
                row["booked_by"],
                "booking.cancelled_by_doctor",
                {"starts_at": row["starts_at"].isoformat(), "reason": reason},
                dedupe_key=str(booking_id),
                urgency="high",
            )
            result = await fetch_one(connection, BOOKING_SELECT + " WHERE b.id = $1", booking_id)
        return booking_out(result, "doctor")

    async def doctor_no_show(
        self, booking_id: uuid.UUID, note: str, context: AuditContext
    ) -> BookingOut:
        """An operator records that the doctor did not attend: full refund, patient told."""
        async with self.db.transaction() as connection:
            await self.doctor_no_show_in(connection, booking_id, note, context)
            result = await fetch_one(connection, BOOKING_SELECT + " WHERE b.id = $1", booking_id)
        return booking_out(result)

    async def doctor_no_show_in(
        self,
        connection: Connection,
        booking_id: uuid.UUID,
        note: str,
        context: AuditContext,
    ) -> None:
        """``doctor_no_show`` inside the caller's transaction (the consultation's no-show job
        ends its consultation in the same one)."""
        row = await connection.fetchrow(
            "SELECT b.*, lower(b.during) AS starts_at, upper(b.during) AS ends_at "
            "FROM bookings b WHERE b.id = $1 FOR UPDATE",
            booking_id,
        )
        if row is None:
            raise NotFound("no such booking")
        if row["status"] != "confirmed" or row["starts_at"] > dt.datetime.now(dt.UTC):
            raise Conflict("only a confirmed visit that has begun can be a no-show", field="status")
        await self._end(
            connection,
            row,
            "cancelled",
            "doctor_no_show",
            note,
            100,
            None,
            context,
            slot_state=None,
        )
        await notify(
            connection,
            row["booked_by"],
            "booking.doctor_no_show",
            {"starts_at": row["starts_at"].isoformat()},
            dedupe_key=str(booking_id),
            urgency="high",
        )

    # -- the visit's outcome ----------------------------------------------------------------
    async def record_outcome(
        self,
        principal: Principal,
        booking_id: uuid.UUID,
        outcome: Outcome,
        note: str,
        context: AuditContext,
    ) -> BookingOut:
        """The doctor ends the visit: completed, the patient did not come, or this is a first
        visit not suitable for online care (cancelled with a full refund; a referral to an
        offline partner hospital is suggested)."""
        async with self.db.transaction() as connection:
            await self.record_outcome_in(connection, principal, booking_id, outcome, note, context)
            result = await fetch_one(connection, BOOKING_SELECT + " WHERE b.id = $1", booking_id)
        return booking_out(result, "doctor")

    async def record_outcome_in(
        self,
        connection: Connection,
        principal: Principal,
        booking_id: uuid.UUID,
        outcome: Outcome,
        note: str,
        context: AuditContext,
    ) -> None:
        """``record_outcome`` inside the caller's transaction (the consultation's end)."""
        row = await booking_for_update(connection, booking_id, principal.user_id, "doctor")
        if row["status"] != "confirmed":
            raise Conflict(
                f"this booking is {row['status']}, not a confirmed visit", field="status"
            )
        if dt.datetime.now(dt.UTC) < outcome_opens_at(row["starts_at"]):
            raise Conflict("the visit has not begun yet", field="outcome")
        if outcome == "completed":
            await self._end(
                connection,
                row,
                "completed",
                "completed",
                note,
                None,
                principal,
                context,
                slot_state=None,
            )
        elif outcome == "patient_no_show":
            await self._end(
                connection,
                row,
                "no_show",
                "patient_no_show",
                note,
                None,
                principal,
                context,
                slot_state=None,
            )
        else:
            await self._end(
                connection,
                row,
                "terminated",
                "first_visit_unsuitable",
                note,
                100,
                principal,
                context,
                slot_state=None,
            )
            await outbox.enqueue(
                connection,
                "referral.suggested",
                {"booking_id": str(booking_id), "note": note},
                dedupe_key=f"referral:booking:{booking_id}",
            )
            await notify(
                connection,
                row["booked_by"],
                "booking.first_visit_unsuitable",
                {"note": note},
                dedupe_key=str(booking_id),
                urgency="high",
            )

    async def _end(
        self,
        connection: Connection,
        row: asyncpg.Record,
        status: str,
        reason: str,
        note: str,
        refund_percent: int | None,
        principal: Principal | None,
        context: AuditContext,
        *,
        slot_state: str | None,
    ) -> None:
        await connection.execute(
            """
            UPDATE bookings SET status = $2, hold_expires_at = NULL, ended_at = now(),
                   ended_by = $3, end_reason = $4, refund_percent = $5
             WHERE id = $1
            """,
            row["id"],
            status,
            principal.user_id if principal else None,
            reason,
            refund_percent,
        )
        if slot_state is not None:
            await connection.execute(
                "UPDATE slots SET state = $2, held_until = NULL WHERE id = $1",
                row["slot_id"],
                slot_state,
            )
        for listener in self.listeners:
            await listener.booking_ended(connection, row["id"], status, principal)
        await audit.record(
            connection,
            context,
            f"booking.{reason}",
            "booking",
            row["id"],
            detail={
                "note": note,
                "refund_percent": refund_percent,
                "previous_status": row["status"],
            },
        )
        await settle_ended_booking(connection, row, reason, refund_percent, context)
