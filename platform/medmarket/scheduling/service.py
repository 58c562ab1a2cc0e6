"""A doctor's offerings, availability and published slots."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.errors import Conflict, InvalidInput, NotFound
from medmarket.scheduling.schemas import (
    AvailabilityIn,
    AvailabilityOut,
    ConsultKind,
    DoctorSlot,
    ExceptionIn,
    OfferingIn,
    OfferingOut,
    PublishIn,
    PublishOut,
    SlotOut,
    WindowIn,
    format_wall_time,
    parse_wall_time,
)
from medmarket.scheduling.slots import (
    AvailabilityException,
    WeeklyWindow,
    generate_slots,
    wall_clock_to_utc,
)

T = TypeVar("T")
U = TypeVar("U")


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", field="time_zone") from None


async def own_doctor(connection: Connection | asyncpg.Pool, principal: Principal) -> asyncpg.Record:
    """The doctor record of the signed-in doctor."""
    row = await connection.fetchrow(
        "SELECT id, status, time_zone FROM doctors WHERE user_id = $1", principal.user_id
    )
    if row is None:
        raise NotFound("apply as a doctor first")
    return row


def _check_windows(weekly: list[WindowIn], exceptions: list[ExceptionIn]) -> None:
    for index, window in enumerate(weekly):
        if window.ends_at <= window.starts_at:
            raise InvalidInput("a window must end after it starts", field=f"weekly[{index}]")
    for index, exception in enumerate(exceptions):
        partial = (exception.starts_at is None) != (exception.ends_at is None)
        backwards = (
            exception.starts_at is not None
            and exception.ends_at is not None
            and exception.ends_at <= exception.starts_at
        )
        if partial or backwards or (exception.kind == "extra" and exception.starts_at is None):
            raise InvalidInput(
                "give both times (end after start), or none for a whole unavailable day",
                field=f"exceptions[{index}]",
            )


def _maybe(convert: Callable[[T], U], value: T | None) -> U | None:
    return None if value is None else convert(value)


class Schedules:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_offering(
        self, principal: Principal, kind: ConsultKind, offering: OfferingIn, context: AuditContext
    ) -> OfferingOut:
        async with self.db.transaction() as connection:
            doctor = await own_doctor(connection, principal)
            await connection.execute(
                """
                INSERT INTO consult_offerings (doctor_id, kind, price_fen, slot_minutes,
                       free_cancel_hours, late_cancel_refund_percent, active)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (doctor_id, kind) DO UPDATE
                   SET price_fen = EXCLUDED.price_fen, slot_minutes = EXCLUDED.slot_minutes,
                       free_cancel_hours = EXCLUDED.free_cancel_hours,
                       late_cancel_refund_percent = EXCLUDED.late_cancel_refund_percent,
                       active = EXCLUDED.active, updated_at = now()
                """,
                doctor["id"],
                kind,
                offering.price_fen,
                offering.slot_minutes,
                offering.free_cancel_hours,
                offering.late_cancel_refund_percent,
                offering.active,
            )
            await audit.record(
                connection,
                context,
                "offering.set",
                "doctor",
                doctor["id"],
                detail={
                    "kind": kind,
                    "price_fen": offering.price_fen,
                    "slot_minutes": offering.slot_minutes,
                },
            )
        return OfferingOut(
            kind=kind, **{f: getattr(offering, f) for f in OfferingIn.__struct_fields__}
        )

    async def offerings(self, principal: Principal) -> list[OfferingOut]:
        """The signed-in doctor's prices and terms, per consultation kind."""
        doctor = await own_doctor(self.db.pool, principal)
        rows = await self.db.fetch(
            "SELECT kind, price_fen, currency, slot_minutes, free_cancel_hours, "
            "late_cancel_refund_percent, active FROM consult_offerings WHERE doctor_id = $1 "
            "ORDER BY kind DESC",
            doctor["id"],
        )
        return [OfferingOut(**dict(row)) for row in rows]

    async def availability(self, principal: Principal) -> AvailabilityOut:
        doctor = await own_doctor(self.db.pool, principal)
        weekly = await self.db.fetch(
            "SELECT weekday, starts_at, ends_at FROM weekly_availability WHERE doctor_id = $1 "
            "ORDER BY weekday, starts_at",
            doctor["id"],
        )
        exceptions = await self.db.fetch(
            "SELECT on_date, kind, starts_at, ends_at FROM availability_exceptions "
            "WHERE doctor_id = $1 ORDER BY on_date, starts_at NULLS FIRST",
            doctor["id"],
        )
        return AvailabilityOut(
            time_zone=doctor["time_zone"],
            weekly=[
                WindowIn(
                    weekday=row["weekday"],
                    starts_at=format_wall_time(row["starts_at"]),
                    ends_at=format_wall_time(row["ends_at"]),
                )
                for row in weekly
            ],
            exceptions=[
                ExceptionIn(
                    on_date=row["on_date"],
                    kind=row["kind"],
                    starts_at=_maybe(format_wall_time, row["starts_at"]),
                    ends_at=_maybe(format_wall_time, row["ends_at"]),
                )
                for row in exceptions
            ],
        )

    async def set_availability(
        self, principal: Principal, availability: AvailabilityIn, context: AuditContext
    ) -> AvailabilityOut:
        zone_named(availability.time_zone)
        _check_windows(availability.weekly, availability.exceptions)
        async with self.db.transaction() as connection:
            doctor = await own_doctor(connection, principal)
            await connection.execute(
                "UPDATE doctors SET time_zone = $2, updated_at = now() WHERE id = $1",
                doctor["id"],
                availability.time_zone,
            )
            await connection.execute(
                "DELETE FROM weekly_availability WHERE doctor_id = $1", doctor["id"]
            )
            await connection.execute(
                "DELETE FROM availability_exceptions WHERE doctor_id = $1", doctor["id"]
            )
            await connection.executemany(
                "INSERT INTO weekly_availability (doctor_id, weekday, starts_at, ends_at) "
                "VALUES ($1, $2, $3, $4)",
                [
                    (
                        doctor["id"],
                        w.weekday,
                        parse_wall_time(w.starts_at),
                        parse_wall_time(w.ends_at),
                    )
                    for w in availability.weekly
                ],
            )
            await connection.executemany(
                "INSERT INTO availability_exceptions (doctor_id, on_date, kind, starts_at, ends_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                [
                    (
                        doctor["id"],
                        e.on_date,
                        e.kind,
                        _maybe(parse_wall_time, e.starts_at),
                        _maybe(parse_wall_time, e.ends_at),
                    )
                    for e in availability.exceptions
                ],
            )
            await audit.record(
                connection,
                context,
                "availability.set",
                "doctor",
                doctor["id"],
                detail={
                    "time_zone": availability.time_zone,
                    "windows": len(availability.weekly),
                    "exceptions": len(availability.exceptions),
                },
            )
        return AvailabilityOut(
            **{f: getattr(availability, f) for f in AvailabilityIn.__struct_fields__}
        )

    async def publish(
        self, principal: Principal, request: PublishIn, context: AuditContext
    ) -> PublishOut:
        """Generate slots for the coming ``days`` and make the published set match them:
        add missing slots, withdraw free ones that the availability no longer covers. Held or
        booked slots are never touched."""
        async with self.db.transaction() as connection:
            doctor = await own_doctor(connection, principal)
            if doctor["status"] != "approved":
                raise Conflict("only approved doctors can publish slots", field="status")
            offering = await connection.fetchrow(
                "SELECT slot_minutes FROM consult_offerings "
                "WHERE doctor_id = $1 AND kind = $2 AND active",
                doctor["id"],
                request.kind,
            )
            if offering is None:
                raise Conflict(f"set a price for {request.kind} consultations first", field="kind")
            # Serialises publishing per doctor, so two publishes cannot interleave.
            await connection.execute("SELECT 1 FROM doctors WHERE id = $1 FOR UPDATE", doctor["id"])
            zone = zone_named(doctor["time_zone"])
            weekly = [
                WeeklyWindow(**dict(r))
                for r in await connection.fetch(
                    "SELECT weekday, starts_at, ends_at FROM weekly_availability "
                    "WHERE doctor_id = $1",
                    doctor["id"],
                )
            ]
            exceptions = [
                AvailabilityException(**dict(r))
                for r in await connection.fetch(
                    "SELECT on_date, kind, starts_at, ends_at FROM availability_exceptions "
                    "WHERE doctor_id = $1",
                    doctor["id"],
                )
            ]
            now = dt.datetime.now(dt.UTC)
            first_day = now.astimezone(zone).date()
            last_day = first_day + dt.timedelta(days=request.days - 1)
            wanted = [
                s
                for s in generate_slots(
                    weekly, exceptions, zone, first_day, last_day, offering["slot_minutes"]
                )
                if s.starts_at > now
            ]
            # Everything up to the end of the last local day is ours to withdraw.
            horizon_end = wall_clock_to_utc(last_day + dt.timedelta(days=1), dt.time(), zone)
            withdrawn = await connection.fetchval(
                """
                WITH wanted AS (
                    SELECT * FROM unnest($2::timestamptz[], $3::timestamptz[]) AS w(s, e)
                ), gone AS (
                    UPDATE slots s SET state = 'withdrawn', held_until = NULL
                     WHERE s.doctor_id = $1 AND s.kind = $4 AND s.starts_at > now()
                       AND s.starts_at < $5 AND slot_is_free(s.state, s.held_until)
                       AND NOT EXISTS (SELECT 1 FROM wanted w
                                        WHERE w.s = s.starts_at AND w.e = s.ends_at)
                    RETURNING 1
                )
                SELECT count(*) FROM gone
                """,
                doctor["id"],
                [s.starts_at for s in wanted],
                [s.ends_at for s in wanted],
                request.kind,
                horizon_end,
            )
            added = await connection.fetchval(
                """
                WITH added AS (
                    INSERT INTO slots (doctor_id, kind, starts_at, ends_at)
                    SELECT $1, $2, w.s, w.e
                      FROM unnest($3::timestamptz[], $4::timestamptz[]) AS w(s, e)
                     WHERE NOT EXISTS (
                         SELECT 1 FROM slots s WHERE s.doctor_id = $1 AND s.state <> 'withdrawn'
                            AND tstzrange(s.starts_at, s.ends_at) && tstzrange(w.s, w.e))
                    ON CONFLICT (doctor_id, starts_at) DO UPDATE
                       SET state = 'open', ends_at = EXCLUDED.ends_at, kind = EXCLUDED.kind
                     WHERE slots.state = 'withdrawn'
                    RETURNING 1
                )
                SELECT count(*) FROM added
                """,
                doctor["id"],
                request.kind,
                [s.starts_at for s in wanted],
                [s.ends_at for s in wanted],
            )
            if added or withdrawn:
                await audit.record(
                    connection,
                    context,
                    "slots.published",
                    "doctor",
                    doctor["id"],
                    detail={
                        "added": added,
                        "withdrawn": withdrawn,
                        "first_day": first_day.isoformat(),
                        "last_day": last_day.isoformat(),
                    },
                )
        return PublishOut(added=added, withdrawn=withdrawn, first_day=first_day, last_day=last_day)

    async def slots(
        self, doctor_id: uuid.UUID, start: dt.datetime, end: dt.datetime, *, only_free: bool
    ) -> list[SlotOut]:
        rows = await self.db.fetch(
            """
            SELECT s.id, s.starts_at, s.ends_at, s.kind, slot_is_free(s.state, s.held_until) AS free
              FROM slots s JOIN bookable_doctors d ON d.id = s.doctor_id
             WHERE s.doctor_id = $1 AND s.state <> 'withdrawn'
               AND s.starts_at >= greatest($2, now()) AND s.starts_at < $3
               AND ($4 = false OR slot_is_free(s.state, s.held_until))
             ORDER BY s.starts_at
             LIMIT 500
            """,
            doctor_id,
            start,
            end,
            only_free,
        )
        return [SlotOut(**dict(row)) for row in rows]

    async def slot(self, slot_id: uuid.UUID) -> DoctorSlot:
        """A published slot of an approved doctor, free or not; anything else is not found."""
        row = await self.db.fetchrow(
            """
            SELECT s.id, s.doctor_id, s.starts_at, s.ends_at, s.kind,
                   slot_is_free(s.state, s.held_until) AS free
              FROM slots s JOIN doctors d ON d.id = s.doctor_id AND d.status = 'approved'
             WHERE s.id = $1 AND s.state <> 'withdrawn'
            """,
            slot_id,
        )
        if row is None:
            raise NotFound("no such slot")
        return DoctorSlot(**dict(row))
