"""The rules of booking.

Holding: the slot row is locked (a contender that finds it locked is told at once that the
time is being taken), stale holds on the same time are expired, and the booking is
inserted; the exclusion constraints on bookings are what finally guarantee one live booking
per stretch of a doctor's (and a patient's) time.
Everything a booking changes commits with its audit event and its outbox messages.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.bookings.payments import PURPOSE
from medmarket.bookings.queries import BOOKING_SELECT, booking_out
from medmarket.bookings.schemas import BookingOut, BookingRequest
from medmarket.db import Connection, Database, fetch_one
from medmarket.errors import Conflict, InvalidInput, NotFound
from medmarket.patients.service import (
    CURRENT_POLICY_VERSION,
    GUARDIAN_AGE,
    ConsentRequired,
    age_on,
)
from medmarket.payments import refunds

# Who is booking for whom: the booking account's real-name record and consent, and the
# patient it books for (only if the account owns that patient).
_BOOKER = """
    SELECT EXISTS (SELECT 1 FROM patients s
                    WHERE s.account_id = $1 AND s.relationship = 'self') AS has_real_name,
           (SELECT c.id FROM health_data_consents c
             WHERE c.account_id = $1 AND c.withdrawn_at IS NULL) AS consent_id,
           p.id AS patient_id, p.date_of_birth
      FROM (SELECT 1) AS one
      LEFT JOIN patients p ON p.id = $2 AND p.account_id = $1 AND p.removed_at IS NULL
"""


class SlotTaken(Conflict):
    slug, title = "slot-taken", "Someone else has just booked this time"


class RealNameRequired(Conflict):
    slug, title = "real-name-required", "Enter your real name, phone and date of birth first"


_FOR_UPDATE = """
    SELECT b.*, lower(b.during) AS starts_at, upper(b.during) AS ends_at,
           d.user_id AS doctor_user_id
      FROM bookings b JOIN doctors d ON d.id = b.doctor_id
     WHERE b.id = $1 AND CASE WHEN $3 = 'patient' THEN b.booked_by ELSE d.user_id END = $2
       FOR UPDATE OF b
"""


async def booking_for_update(
    connection: Connection, booking_id: uuid.UUID, user_id: uuid.UUID, side: str
) -> asyncpg.Record:
    """Lock a booking the caller is part of: as the booking patient or as its doctor."""
    row = await connection.fetchrow(_FOR_UPDATE, booking_id, user_id, side)
    if row is None:
        raise NotFound("no such booking")
    return row


class Bookings:
    def __init__(self, db: Database, hold_seconds: int) -> None:
        self.db = db
        self.hold = dt.timedelta(seconds=hold_seconds)

    # -- reading ----------------------------------------------------------------------------
    async def get(self, principal: Principal, booking_id: uuid.UUID) -> BookingOut:
        """The booking, for the account that booked it or the doctor it is with; anyone else
        is told it does not exist."""
        row = await self.db.fetchrow(
            BOOKING_SELECT + " WHERE b.id = $1 AND (b.booked_by = $2 OR d.user_id = $2)",
            booking_id,
            principal.user_id,
        )
        if row is None:
            raise NotFound("no such booking")
        return booking_out(row, "patient" if principal.role == "patient" else "doctor")

    async def mine(
        self, principal: Principal, before: dt.datetime | None, limit: int
    ) -> list[BookingOut]:
        rows = await self.db.fetch(
            BOOKING_SELECT + " WHERE b.booked_by = $1 AND ($2::timestamptz IS NULL "
            "OR b.created_at < $2) ORDER BY b.created_at DESC LIMIT $3",
            principal.user_id,
            before,
            limit,
        )
        return [booking_out(row, "patient") for row in rows]

    async def doctors_day(
        self, principal: Principal, start: dt.datetime, end: dt.datetime
    ) -> list[BookingOut]:
        rows = await self.db.fetch(
            BOOKING_SELECT + " WHERE d.user_id = $1 AND b.during && tstzrange($2, $3) "
            "AND b.status NOT IN ('expired') ORDER BY lower(b.during)",
            principal.user_id,
            start,
            end,
        )
        return [booking_out(row, "doctor") for row in rows]

    # -- holding a slot ---------------------------------------------------------------------
    async def hold_slot(
        self, principal: Principal, request: BookingRequest, context: AuditContext
    ) -> BookingOut:
        prior = request.prior_diagnosis
        institution, diagnosis = " ".join(prior.institution.split()), prior.diagnosis.strip()
        if len(institution) < 2:
            raise InvalidInput(
                "name the institution that diagnosed it", field="prior_diagnosis.institution"
            )
        if len(diagnosis) < 2:
            raise InvalidInput("give the earlier diagnosis", field="prior_diagnosis.diagnosis")
        # Cheap reads first, outside any lock: most losers of a busy slot stop here.
        booker = await self.db.fetchrow(_BOOKER, principal.user_id, request.patient_id)
        assert booker is not None  # the query always returns one row
        if not booker["has_real_name"]:
            raise RealNameRequired()
        if booker["patient_id"] is None:
            raise NotFound("no such patient", field="patient_id")
        if booker["consent_id"] is None:
            raise ConsentRequired(current_policy_version=CURRENT_POLICY_VERSION)
        if prior.document_id is not None and not await self.db.fetchval(
            "SELECT 1 FROM patient_documents WHERE id = $1 AND patient_id = $2 "
            "AND removed_at IS NULL",
            prior.document_id,
            request.patient_id,
        ):
            raise InvalidInput(
                "cite one of this patient's own documents", field="prior_diagnosis.document_id"
            )
        looks_free = await self.db.fetchval(
            "SELECT slot_is_free(state, held_until) FROM slots "
            "WHERE id = $1 AND state <> 'withdrawn'",
            request.slot_id,
        )
        if looks_free is False:
            raise SlotTaken(field="slot_id")
        async with self.db.transaction() as connection:
            # NOWAIT: if another request holds this slot's row, it is booking this very
            # time; answering 409 at once beats queueing every contender on the row (and
            # their pool connections) only to answer 409 after the winner commits.
            try:
                slot = await connection.fetchrow(
                    """
                SELECT s.id, s.doctor_id, s.kind, s.starts_at, s.ends_at,
                       slot_is_free(s.state, s.held_until) AS free, o.price_fen, o.currency,
                       o.free_cancel_hours, o.late_cancel_refund_percent, d.user_id
                  FROM slots s
                  JOIN doctors d ON d.id = s.doctor_id AND d.status = 'approved'
                  JOIN hospitals h ON h.id = d.hospital_id AND h.status = 'active'
                  JOIN consult_offerings o ON o.doctor_id = s.doctor_id AND o.kind = s.kind
                                          AND o.active
                 WHERE s.id = $1 AND s.state <> 'withdrawn'
                   FOR UPDATE OF s NOWAIT
                """,
                    request.slot_id,
                )
            except asyncpg.LockNotAvailableError:
                raise SlotTaken(field="slot_id") from None
            if slot is None:
                raise NotFound("no such slot", field="slot_id")
            if slot["starts_at"] <= dt.datetime.now(dt.UTC):
                raise Conflict("this time has already begun", field="slot_id")
            if not slot["free"]:
                raise SlotTaken(field="slot_id")
            if prior.diagnosed_on > slot["starts_at"].date():
                raise InvalidInput(
                    "the earlier diagnosis must come before the visit",
                    field="prior_diagnosis.diagnosed_on",
                )
            lapsed = await connection.fetch(
                """
                UPDATE bookings SET status = 'expired', hold_expires_at = NULL
                 WHERE doctor_id = $1 AND status = 'held' AND hold_expires_at < now()
                   AND during && tstzrange($2, $3)
                RETURNING id
                """,
                slot["doctor_id"],
                slot["starts_at"],
                slot["ends_at"],
            )
            for lapsed_booking in lapsed:
                await audit.record(
                    connection, context, "booking.expired", "booking", lapsed_booking["id"]
                )
                await refunds.cancel_open_attempts(
                    connection, PURPOSE, lapsed_booking["id"], context
                )
            try:
                async with connection.transaction():
                    booking_id = await connection.fetchval(
                        """
                        INSERT INTO bookings (slot_id, doctor_id, patient_id, booked_by, kind,
                               during, status, hold_expires_at, price_fen, currency,
                               free_cancel_hours, late_cancel_refund_percent, guardian_required,
                               prior_institution, prior_diagnosed_on, prior_diagnosis,
                               prior_document_id, consent_id)
                        VALUES ($1, $2, $3, $4, $5, tstzrange($6, $7), 'held', now() + $8,
                                $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                        RETURNING id
                        """,
                        slot["id"],
                        slot["doctor_id"],
                        booker["patient_id"],
                        principal.user_id,
                        slot["kind"],
                        slot["starts_at"],
                        slot["ends_at"],
                        self.hold,
                        slot["price_fen"],
                        slot["currency"],
                        slot["free_cancel_hours"],
                        slot["late_cancel_refund_percent"],
                        age_on(booker["date_of_birth"], slot["starts_at"].date()) < GUARDIAN_AGE,
                        institution,
                        prior.diagnosed_on,
                        diagnosis,
                        prior.document_id,
                        booker["consent_id"],
                    )
            except asyncpg.ExclusionViolationError as exc:
                if "patient_id" in (exc.constraint_name or ""):
                    raise Conflict(
                        "this patient already has a visit at that time", field="patient_id"
                    ) from None
                raise SlotTaken(field="slot_id") from None
            await connection.execute(
                "UPDATE slots SET state = 'held', held_until = now() + $2 WHERE id = $1",
                slot["id"],
                self.hold,
            )
            await audit.record(
                connection,
                context,
                "booking.held",
                "booking",
                booking_id,
                detail={"slot_id": str(slot["id"]), "price_fen": slot["price_fen"]},
            )
            row = await fetch_one(connection, BOOKING_SELECT + " WHERE b.id = $1", booking_id)
        return booking_out(row, "patient")

    # -- housekeeping -----------------------------------------------------------------------
    async def expire_holds(self, context: AuditContext) -> int:
        """Release every hold that has run out; returns how many."""
        async with self.db.transaction() as connection:
            expired = await connection.fetch(
                """
                UPDATE bookings SET status = 'expired', hold_expires_at = NULL
                 WHERE status = 'held' AND hold_expires_at < now()
                RETURNING id, slot_id
                """
            )
            if expired:
                await connection.execute(
                    "UPDATE slots SET state = 'open', held_until = NULL "
                    "WHERE id = ANY($1::uuid[]) AND state = 'held'",
                    [row["slot_id"] for row in expired],
                )
            for row in expired:
                await audit.record(connection, context, "booking.expired", "booking", row["id"])
                # A payer still at the gateway: stop the attempt (should it charge anyway,
                # the late payment is refunded by BookingPayments.on_succeeded).
                await refunds.cancel_open_attempts(connection, PURPOSE, row["id"], context)
        return len(expired)
