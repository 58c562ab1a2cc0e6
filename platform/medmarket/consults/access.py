"""Who takes part in a consultation, decided by one query: the booking's patient account (for
a young child, the guardian who booked), the booking's doctor, and colleagues the doctor
invited who are still invited and still approved. Anyone else is told the consultation does
not exist, exactly as for one that does not."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from redis.exceptions import RedisError

from medmarket.consults.schemas import (
    ENDED,
    ColleagueOut,
    ConsultationOut,
    ParticipantOut,
    PatientOut,
    Role,
    VideoChoice,
)
from medmarket.db import Connection, Database
from medmarket.errors import Forbidden, NotFound
from medmarket.signaling.rooms import RoomStore
from medmarket.signaling.standing import RoomStanding
from medmarket.signaling.tokens import RoomGrant, slot_window

NOT_FOUND = "no such consultation"

# The role of user $2 in consultation c (of booking b, doctor d); NULL: none.
_MY_ROLE = """
           CASE WHEN b.booked_by = $2 THEN 'patient'
                WHEN d.user_id = $2 THEN 'doctor'
                WHEN EXISTS (SELECT 1 FROM consultation_colleagues i
                               JOIN doctors g ON g.id = i.doctor_id
                              WHERE i.consultation_id = c.id AND i.removed_at IS NULL
                                AND g.user_id = $2 AND g.status = 'approved') THEN 'guest'
           END AS my_role
"""

# $2: the caller's user id (NULL for operators, who read without taking part).
CONSULTATION_SELECT = (
    """
    SELECT c.id, c.booking_id, c.status, c.video_provider, c.high_throughput, c.waiting_since,
           c.patient_joined_at, c.doctor_joined_at, c.started_at, c.ended_at,
           b.status AS booking_status, b.kind, lower(b.during) AS starts_at,
           upper(b.during) AS ends_at, b.booked_by, b.patient_id, b.guardian_required,
           b.end_reason, b.refund_percent, p.real_name AS patient_name,
           u.display_name AS account_name, b.doctor_id, d.user_id AS doctor_user_id,
           d.full_name AS doctor_name,"""  # noqa: S608 - constants only
    + _MY_ROLE
    + """
      FROM consultations c
      JOIN bookings b ON b.id = c.booking_id
      JOIN doctors d ON d.id = b.doctor_id
      JOIN patients p ON p.id = b.patient_id
      JOIN users u ON u.id = b.booked_by
"""
)

# What a room token's holder ($2) is in the consultation $1 now. The phone is the account
# holder's own (the device in the room is theirs, also when they book for a child).
_STANDING = (
    """
    SELECT c.status,
           (SELECT s.phone FROM patients s
             WHERE s.account_id = b.booked_by AND s.relationship = 'self'
               AND s.removed_at IS NULL) AS account_phone,"""  # noqa: S608 - constants
    + _MY_ROLE
    + """
      FROM consultations c
      JOIN bookings b ON b.id = c.booking_id
      JOIN doctors d ON d.id = b.doctor_id
     WHERE c.id = $1
"""
)

_COLLEAGUES = """
    SELECT i.doctor_id, g.user_id, g.full_name AS name, i.invited_at, i.invited_by,
           i.removed_at, i.removed_by
      FROM consultation_colleagues i JOIN doctors g ON g.id = i.doctor_id
     WHERE i.consultation_id = $1
     ORDER BY i.invited_at, i.id
"""


async def participation(
    connection: Connection | asyncpg.Pool,
    consultation_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    lock: bool = False,
) -> asyncpg.Record:
    """The consultation as ``user_id`` takes part in it (``my_role``), or NotFound.
    ``lock`` takes the consultation's row lock for a change (lock its booking first when the
    change reaches the booking too: bookings are always locked before consultations)."""
    row = await connection.fetchrow(
        CONSULTATION_SELECT + " WHERE c.id = $1" + (" FOR UPDATE OF c" if lock else ""),
        consultation_id,
        user_id,
    )
    if row is None or row["my_role"] is None:
        raise NotFound(NOT_FOUND)
    return row


async def for_operator(
    connection: Connection | asyncpg.Pool, consultation_id: uuid.UUID
) -> asyncpg.Record:
    row = await connection.fetchrow(CONSULTATION_SELECT + " WHERE c.id = $1", consultation_id, None)
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def require_own_doctor(row: asyncpg.Record, action: str) -> None:
    """Only the booking's own doctor may admit, invite, choose the video or end the visit;
    the patient and colleagues take part but are refused these (they know it exists)."""
    if row["my_role"] != "doctor":
        raise Forbidden(f"only the consultation's own doctor may {action}")


def window(row: asyncpg.Record) -> tuple[dt.datetime, dt.datetime]:
    """(opens_at, closes_at): the room may be entered 15 minutes before the slot and a call
    that runs over may continue until a grace period after it (the room token's window)."""
    return slot_window(row["starts_at"], row["ends_at"])


async def colleagues(
    connection: Connection | asyncpg.Pool, consultation_id: uuid.UUID
) -> list[ColleagueOut]:
    rows = await connection.fetch(_COLLEAGUES, consultation_id)
    return [ColleagueOut(**dict(r)) for r in rows]


async def present_ids(rooms: RoomStore, consultation_id: uuid.UUID) -> set[str] | None:
    """Who is in the room now; None when the room cannot be asked (presence is then
    unknown, and the rest of the answer still stands)."""
    try:
        return {member.id for member in await rooms.members(consultation_id)}
    except (RedisError, OSError):
        return None


def consultation_out(
    row: asyncpg.Record, invited: list[ColleagueOut], present: set[str] | None = None
) -> ConsultationOut:
    def seen(user_id: uuid.UUID) -> bool | None:
        return None if present is None else str(user_id) in present

    people = [
        ParticipantOut(
            user_id=row["booked_by"],
            role="patient",
            name=row["account_name"],
            present=seen(row["booked_by"]),
        ),
        ParticipantOut(
            user_id=row["doctor_user_id"],
            role="doctor",
            name=row["doctor_name"],
            doctor_id=row["doctor_id"],
            present=seen(row["doctor_user_id"]),
        ),
    ]
    people += [
        ParticipantOut(
            user_id=c.user_id,
            role="guest",
            name=c.name,
            doctor_id=c.doctor_id,
            present=seen(c.user_id),
        )
        for c in invited
        if c.removed_at is None
    ]
    opens_at, closes_at = window(row)
    values: dict[str, Any] = dict(row)
    return ConsultationOut(
        id=values["id"],
        booking_id=values["booking_id"],
        status=values["status"],
        kind=values["kind"],
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        opens_at=opens_at,
        closes_at=closes_at,
        patient=PatientOut(
            id=values["patient_id"],
            name=values["patient_name"],
            guardian_required=values["guardian_required"],
        ),
        participants=people,
        my_role=values["my_role"],
        video=VideoChoice(
            provider=values["video_provider"], high_throughput=values["high_throughput"]
        ),
        waiting_since=values["waiting_since"],
        started_at=values["started_at"],
        ended_at=values["ended_at"],
        end_reason=values["end_reason"],
        refund_percent=values["refund_percent"],
    )


class ConsultationRooms:
    """The room authority of signaling and video (``medmarket.signaling.standing``): a room
    token opens its room only while its consultation has not ended and its holder still takes
    part, in the role the token names."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def standing(self, grant: RoomGrant) -> RoomStanding:
        try:
            user_id: uuid.UUID | None = uuid.UUID(grant.participant_id)
        except ValueError:  # not a user: no consultation's participant
            user_id = None
        row = await self.db.fetchrow(_STANDING, grant.consultation_id, user_id)
        if row is None:
            return RoomStanding(verdict="no-consultation")
        if row["my_role"] is None or row["my_role"] != grant.role:
            return RoomStanding(verdict="not-participant")
        if row["status"] in ENDED:
            return RoomStanding(verdict="ended", status=row["status"])
        phone = row["account_phone"] if grant.role == "patient" else None
        return RoomStanding(verdict="open", status=row["status"], phone_number=phone)


def role_of(row: asyncpg.Record) -> Role:
    role: Role = row["my_role"]
    return role
