"""The consultation's lifecycle: entering the room (the patient into the waiting room, from
15 minutes before the slot), the doctor admitting the patient, the video provider serving the
call, and the end of the visit.

The end is the booking's outcome: ``end`` checks what only the consultation knows (was the
patient admitted, are they in the room now) and then lets ``BookingEndings`` decide the rest
(refunds, referral, the patient's notice) in the same transaction; the database's trigger
moves the consultation to its final state with the booking. Whenever a change reaches the
booking, the booking's row is locked before the consultation's (the order every booking
path takes), so two changes never wait on each other.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.bookings.endings import BookingEndings
from medmarket.bookings.listeners import BOOKING_LISTENERS
from medmarket.bookings.schemas import Outcome
from medmarket.consults.access import (
    CONSULTATION_SELECT,
    NOT_FOUND,
    colleagues,
    consultation_out,
    participation,
    present_ids,
    require_own_doctor,
    role_of,
    window,
)
from medmarket.consults.room import RoomAnnouncer, Staged, status_key, status_message
from medmarket.consults.schemas import (
    ENDED,
    ColleagueOut,
    ConsultationOut,
    Entered,
    RoomAccess,
    Status,
    VideoChoice,
)
from medmarket.db import Connection
from medmarket.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from medmarket.notifications.service import notify
from medmarket.services import Services
from medmarket.signaling.messages import SUBPROTOCOL
from medmarket.signaling.rooms import RoomStore
from medmarket.signaling.tokens import mint_room_token

# A patient is not a no-show before this much of their slot has passed.
PATIENT_NO_SHOW_AFTER = dt.timedelta(minutes=10)
LIVE_STATUSES = ("waiting", "in_progress")


class RoomNotOpen(Conflict):
    status, slug, title = 409, "room-not-open", "The consultation's room is not open now"


class ConsultationOver(Conflict):
    status, slug, title = 409, "consultation-ended", "This consultation has ended"


def require_live(row: asyncpg.Record, now: dt.datetime) -> None:
    """The consultation has not ended and its room is open now."""
    if row["status"] in ENDED:
        raise ConsultationOver(
            f"this consultation is {row['status']}", field="status", status_now=row["status"]
        )
    opens_at, closes_at = window(row)
    if now < opens_at:
        raise RoomNotOpen(
            "the room opens 15 minutes before the visit",
            field="status",
            code="not-yet-open",
            opens_at=opens_at.isoformat(),
        )
    if now >= closes_at:
        raise RoomNotOpen(
            "the room has closed", field="status", code="closed", closed_at=closes_at.isoformat()
        )


class Consultations:
    def __init__(self, services: Services, rooms: RoomStore) -> None:
        self.services = services
        self.db = services.db
        self.rooms = rooms
        self.announcer = RoomAnnouncer(rooms)
        self.endings = BookingEndings(services.db, services.ports.collect(BOOKING_LISTENERS))

    # -- reading ----------------------------------------------------------------------------
    async def get(self, principal: Principal, consultation_id: uuid.UUID) -> ConsultationOut:
        """The consultation with who is in the room now (what the doctor's page shows of
        the waiting room)."""
        row = await participation(self.db.pool, consultation_id, principal.user_id)
        invited = await colleagues(self.db.pool, consultation_id)
        present = await present_ids(self.rooms, consultation_id)
        return consultation_out(row, invited, present)

    async def listing(
        self,
        principal: Principal,
        *,
        booking_id: uuid.UUID | None,
        start: dt.datetime | None,
        end: dt.datetime | None,
        status: Status | None,
        limit: int,
    ) -> list[ConsultationOut]:
        """The caller's consultations (as patient, doctor or invited colleague) by start
        time; presence is looked up for those whose room is live."""
        rows = await self.db.fetch(
            CONSULTATION_SELECT  # noqa: S608 - constants only; values are parameters
            + """
             WHERE (b.booked_by = $2 OR d.user_id = $2 OR c.id IN (
                        SELECT i.consultation_id FROM consultation_colleagues i
                          JOIN doctors g ON g.id = i.doctor_id
                         WHERE g.user_id = $2 AND i.removed_at IS NULL
                           AND g.status = 'approved'))
               AND ($1::uuid IS NULL OR c.booking_id = $1)
               AND ($3::timestamptz IS NULL OR lower(b.during) >= $3)
               AND ($4::timestamptz IS NULL OR lower(b.during) < $4)
               AND ($5::text IS NULL OR c.status = $5)
             ORDER BY lower(b.during), c.id
             LIMIT $6
            """,
            booking_id,
            principal.user_id,
            start,
            end,
            status,
            limit,
        )
        invited = await self._colleagues_of([row["id"] for row in rows])
        found = []
        for row in rows:
            present = None
            if row["status"] in LIVE_STATUSES:
                present = await present_ids(self.rooms, row["id"])
            found.append(consultation_out(row, invited.get(row["id"], []), present))
        return found

    async def _colleagues_of(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ColleagueOut]]:
        if not ids:
            return {}
        rows = await self.db.fetch(
            """
            SELECT i.consultation_id, i.doctor_id, g.user_id, g.full_name AS name, i.invited_at,
                   i.invited_by, i.removed_at, i.removed_by
              FROM consultation_colleagues i JOIN doctors g ON g.id = i.doctor_id
             WHERE i.consultation_id = ANY($1::uuid[]) AND i.removed_at IS NULL
             ORDER BY i.invited_at, i.id
            """,
            ids,
        )
        found: dict[uuid.UUID, list[ColleagueOut]] = {}
        for row in rows:
            values = dict(row)
            found.setdefault(values.pop("consultation_id"), []).append(ColleagueOut(**values))
        return found

    async def _fresh(
        self, connection: Connection, consultation_id: uuid.UUID, user_id: uuid.UUID
    ) -> ConsultationOut:
        row = await participation(connection, consultation_id, user_id)
        return consultation_out(row, await colleagues(connection, consultation_id))

    # -- entering the room ------------------------------------------------------------------
    async def enter(
        self, principal: Principal, consultation_id: uuid.UUID, context: AuditContext
    ) -> Entered:
        """Enter the room: a room token for the caller, valid from 15 minutes before the slot
        until the grace period after it. The patient entering a scheduled consultation puts
        it in the waiting room (the doctor is told). Safe to call again (a reload)."""
        staged: list[Staged] = []
        async with self.db.transaction() as connection:
            row = await participation(connection, consultation_id, principal.user_id, lock=True)
            now = await _now(connection)
            require_live(row, now)
            role = role_of(row)
            if role == "patient" and row["status"] == "scheduled":
                await connection.execute(
                    "UPDATE consultations SET status = 'waiting', "
                    "waiting_since = coalesce(waiting_since, $2) WHERE id = $1",
                    consultation_id,
                    now,
                )
                await audit.record(
                    connection,
                    context,
                    "consultation.waiting",
                    "consultation",
                    consultation_id,
                    consultation_id=consultation_id,
                )
                await notify(
                    connection,
                    row["doctor_user_id"],
                    "consultation.patient_waiting",
                    {"starts_at": row["starts_at"].isoformat(), "patient": row["patient_name"]},
                    dedupe_key=str(consultation_id),
                    urgency="high",
                )
                staged.append(
                    await self.announcer.stage(
                        connection,
                        consultation_id,
                        status_message("waiting", principal.user_id, role, now),
                        status_key(consultation_id, "waiting"),
                    )
                )
            opens_at, closes_at = window(row)
            token = mint_room_token(
                self.services.settings,
                consultation_id,
                str(principal.user_id),
                role,
                opens_at,
                closes_at,
                slot_starts_at=row["starts_at"],
                slot_ends_at=row["ends_at"],
                video_provider=row["video_provider"],
                high_throughput=row["high_throughput"],
            )
            await audit.record(
                connection,
                context,
                "consultation.token_issued",
                "consultation",
                consultation_id,
                consultation_id=consultation_id,
                detail={
                    "role": role,
                    "video_provider": row["video_provider"],
                    "expires_at": closes_at.isoformat(),
                },
            )
            consultation = await self._fresh(connection, consultation_id, principal.user_id)
        await self.announcer.send(*staged)
        consultation = await self._with_presence(consultation)
        base = f"/api/consultations/{consultation_id}"
        room = RoomAccess(
            token=token,
            not_before=opens_at,
            expires_at=closes_at,
            participant_id=str(principal.user_id),
            role=role,
            signal_path=f"/ws/consultations/{consultation_id}/signal",
            subprotocol=SUBPROTOCOL,
            video_setup_path=f"{base}/video/setup",
            video_teardown_path=f"{base}/video/teardown",
            video=consultation.video,
        )
        return Entered(consultation=consultation, room=room)

    async def _with_presence(self, consultation: ConsultationOut) -> ConsultationOut:
        present = await present_ids(self.rooms, consultation.id)
        if present is not None:
            for person in consultation.participants:
                person.present = str(person.user_id) in present
        return consultation

    # -- the doctor -------------------------------------------------------------------------
    async def admit(
        self, principal: Principal, consultation_id: uuid.UUID, context: AuditContext
    ) -> ConsultationOut:
        """The doctor admits the waiting patient: the visit is in progress (the patient is
        told, and every page in the room hears it). Admitting again changes nothing."""
        staged: list[Staged] = []
        async with self.db.transaction() as connection:
            row = await participation(connection, consultation_id, principal.user_id, lock=True)
            require_own_doctor(row, "admit the patient")
            now = await _now(connection)
            require_live(row, now)
            if row["status"] == "scheduled":
                raise Conflict(
                    "the patient has not entered the waiting room yet",
                    field="status",
                    code="patient-not-waiting",
                )
            if row["status"] == "waiting":
                await connection.execute(
                    "UPDATE consultations SET status = 'in_progress', started_at = $2, "
                    "started_by = $3 WHERE id = $1",
                    consultation_id,
                    now,
                    principal.user_id,
                )
                await audit.record(
                    connection,
                    context,
                    "consultation.started",
                    "consultation",
                    consultation_id,
                    consultation_id=consultation_id,
                    detail={"waiting_since": row["waiting_since"].isoformat()},
                )
                await notify(
                    connection,
                    row["booked_by"],
                    "consultation.admitted",
                    {"doctor": row["doctor_name"]},
                    dedupe_key=str(consultation_id),
                    urgency="high",
                )
                staged.append(
                    await self.announcer.stage(
                        connection,
                        consultation_id,
                        status_message("in_progress", principal.user_id, "doctor", now),
                        status_key(consultation_id, "in_progress"),
                    )
                )
            consultation = await self._fresh(connection, consultation_id, principal.user_id)
        await self.announcer.send(*staged)
        return await self._with_presence(consultation)

    async def choose_video(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        choice: VideoChoice,
        context: AuditContext,
    ) -> ConsultationOut:
        """The video provider for the call (room tokens entered afterwards name it)."""
        installed = self.services.plugins.video_providers.adapters
        if choice.provider not in installed:
            raise InvalidInput(
                f"the video provider {choice.provider!r} is not installed",
                field="provider",
                code="not-installed",
                installed=sorted(installed),
            )
        async with self.db.transaction() as connection:
            row = await participation(connection, consultation_id, principal.user_id, lock=True)
            require_own_doctor(row, "choose the video provider")
            if row["status"] in ENDED:
                raise ConsultationOver(f"this consultation is {row['status']}", field="status")
            await connection.execute(
                "UPDATE consultations SET video_provider = $2, high_throughput = $3 WHERE id = $1",
                consultation_id,
                choice.provider,
                choice.high_throughput,
            )
            await audit.record(
                connection,
                context,
                "consultation.video_chosen",
                "consultation",
                consultation_id,
                consultation_id=consultation_id,
                detail={"provider": choice.provider, "high_throughput": choice.high_throughput},
            )
            return await self._fresh(connection, consultation_id, principal.user_id)

    async def end(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        outcome: Outcome,
        note: str,
        context: AuditContext,
    ) -> ConsultationOut:
        """The doctor ends the visit: ``completed`` or ``first_visit_unsuitable`` (refunded,
        a referral suggested) once the patient was admitted; ``patient_no_show`` when the
        patient never was, is not in the room, and 10 minutes of the slot have passed."""
        present = await present_ids(self.rooms, consultation_id)
        staged: list[Staged] = []
        async with self.db.transaction() as connection:
            booking_id = await connection.fetchval(
                "SELECT booking_id FROM consultations WHERE id = $1", consultation_id
            )
            if booking_id is None:
                raise NotFound(NOT_FOUND)
            await connection.execute("SELECT 1 FROM bookings WHERE id = $1 FOR UPDATE", booking_id)
            row = await participation(connection, consultation_id, principal.user_id, lock=True)
            require_own_doctor(row, "end the visit")
            now = await _now(connection)
            self._check_outcome(row, outcome, present, now)
            await self.endings.record_outcome_in(
                connection, principal, booking_id, outcome, note, context
            )
            ended: str = await connection.fetchval(
                "SELECT status FROM consultations WHERE id = $1", consultation_id
            )
            await audit.record(
                connection,
                context,
                "consultation.ended",
                "consultation",
                consultation_id,
                consultation_id=consultation_id,
                detail={"outcome": outcome, "status": ended, "note": note},
            )
            await notify_ended(connection, row, ended)
            staged.append(
                await self.announcer.stage(
                    connection,
                    consultation_id,
                    status_message(ended, principal.user_id, "doctor", now),
                    status_key(consultation_id, ended),
                )
            )
            consultation = await self._fresh(connection, consultation_id, principal.user_id)
        await self.announcer.send(*staged)
        return consultation

    async def end_booking(
        self,
        principal: Principal,
        booking_id: uuid.UUID,
        outcome: Outcome,
        note: str,
        context: AuditContext,
    ) -> None:
        """``end`` for the visit of a booking: the booking's outcome is recorded under the
        consultation's rules (admitted before completed, the patient truly absent before a
        no-show), whichever page or API the doctor uses."""
        consultation_id = await self.db.fetchval(
            "SELECT id FROM consultations WHERE booking_id = $1", booking_id
        )
        if consultation_id is None:  # not a confirmed visit: the booking answers why
            await self.endings.record_outcome(principal, booking_id, outcome, note, context)
            return
        await self.end(principal, consultation_id, outcome, note, context)

    @staticmethod
    def _check_outcome(
        row: asyncpg.Record, outcome: Outcome, present: set[str] | None, now: dt.datetime
    ) -> None:
        if row["status"] in ENDED:
            raise ConsultationOver(f"this consultation is already {row['status']}", field="status")
        if outcome != "patient_no_show":
            if row["status"] != "in_progress":
                raise Conflict(
                    "admit the patient before ending the visit this way",
                    field="outcome",
                    code="not-started",
                )
            return
        if row["status"] == "in_progress":
            raise Conflict(
                "the patient was admitted: they came", field="outcome", code="patient-attended"
            )
        if now < row["starts_at"] + PATIENT_NO_SHOW_AFTER:
            raise Conflict(
                "a patient is not a no-show before 10 minutes of the visit have passed",
                field="outcome",
                code="too-early",
            )
        if present is None:
            raise ServiceUnavailable("cannot tell now whether the patient is in the room; retry")
        if str(row["booked_by"]) in present:
            raise Conflict(
                "the patient is in the room now: admit them",
                field="outcome",
                code="patient-present",
            )


async def notify_ended(connection: Connection, row: asyncpg.Record, status: str) -> None:
    """The visit is over: the patient and the invited colleagues are told (the booking's own
    notices about refunds go out beside this)."""
    invited = await connection.fetch(
        "SELECT g.user_id FROM consultation_colleagues i JOIN doctors g ON g.id = i.doctor_id "
        "WHERE i.consultation_id = $1 AND i.removed_at IS NULL",
        row["id"],
    )
    for user_id in [row["booked_by"], *(r["user_id"] for r in invited)]:
        await notify(
            connection,
            user_id,
            "consultation.ended",
            {"status": status, "doctor": row["doctor_name"]},
            dedupe_key=str(row["id"]),
        )


async def _now(connection: Connection) -> dt.datetime:
    """The database's clock: every instance decides windows by the same time."""
    now: dt.datetime = await connection.fetchval("SELECT now()")
    return now
