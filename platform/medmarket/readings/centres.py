"""Reading centres: a partner hospital's admins open a centre (imaging, ECG or pathology)
with its turnaround targets and add its readers, approved doctors of that hospital. Any
signed-in doctor or hospital admin may list the centres, to choose where to send a study;
a centre's turnaround is for its admins and readers."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.errors import InvalidInput, NotFound
from medmarket.readings import queries
from medmarket.readings.schemas import CentreIn, CentreOut, Named, ReaderIn, Targets, TurnaroundOut

NO_CENTRE = "no such reading centre"
SUBJECT = "reading_centre"
SELECT = """
    SELECT c.*, h.name AS hospital_name FROM reading_centres c
      JOIN hospitals h ON h.id = c.hospital_id
"""


async def _is_admin(connection: Connection, principal: Principal, hospital_id: uuid.UUID) -> bool:
    found = await connection.fetchval(
        "SELECT 1 FROM hospital_admins WHERE hospital_id = $1 AND user_id = $2",
        hospital_id,
        principal.user_id,
    )
    return found is not None and principal.role == "hospital_admin"


async def _centre_out(connection: Connection, row: asyncpg.Record) -> CentreOut:
    readers = await connection.fetch(
        "SELECT d.id, d.full_name FROM reading_centre_readers rr JOIN doctors d "
        "ON d.id = rr.doctor_id WHERE rr.centre_id = $1 ORDER BY rr.added_at, d.id",
        row["id"],
    )
    return CentreOut(
        id=row["id"],
        hospital=Named(id=row["hospital_id"], name=row["hospital_name"]),
        kind=row["kind"],
        name=row["name"],
        targets=Targets(
            routine=row["target_routine_minutes"],
            urgent=row["target_urgent_minutes"],
            emergency=row["target_emergency_minutes"],
        ),
        readers=[Named(id=r["id"], name=r["full_name"]) for r in readers],
    )


class Centres:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, principal: Principal, data: CentreIn, context: AuditContext
    ) -> CentreOut:
        targets = data.targets
        if not targets.emergency <= targets.urgent <= targets.routine:
            raise InvalidInput(
                "the more urgent, the sooner: emergency ≤ urgent ≤ routine", field="targets"
            )
        async with self.db.transaction() as connection:
            if not await _is_admin(connection, principal, data.hospital_id):
                raise NotFound("no such hospital", field="hospital_id")
            centre_id = await connection.fetchval(
                """
                INSERT INTO reading_centres (hospital_id, kind, name, target_routine_minutes,
                    target_urgent_minutes, target_emergency_minutes, created_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
                """,
                data.hospital_id,
                data.kind,
                data.name.strip(),
                targets.routine,
                targets.urgent,
                targets.emergency,
                principal.user_id,
            )
            await audit.record(
                connection,
                context,
                "reading_centre.created",
                SUBJECT,
                centre_id,
                detail={"kind": data.kind, "hospital_id": str(data.hospital_id)},
            )
            return await self._read(connection, centre_id)

    async def add_reader(
        self, principal: Principal, centre_id: uuid.UUID, data: ReaderIn, context: AuditContext
    ) -> CentreOut:
        async with self.db.transaction() as connection:
            centre = await self._administered(connection, principal, centre_id)
            doctor = await connection.fetchrow(
                "SELECT id FROM doctors WHERE id = $1 AND hospital_id = $2 AND status = 'approved'",
                data.doctor_id,
                centre["hospital_id"],
            )
            if doctor is None:
                raise InvalidInput(
                    "a reader is an approved doctor of the centre's hospital", field="doctor_id"
                )
            added = await connection.execute(
                "INSERT INTO reading_centre_readers (centre_id, doctor_id, added_by) "
                "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                centre_id,
                data.doctor_id,
                principal.user_id,
            )
            if added == "INSERT 0 1":
                await audit.record(
                    connection,
                    context,
                    "reading_centre.reader_added",
                    SUBJECT,
                    centre_id,
                    detail={"doctor_id": str(data.doctor_id)},
                )
            return await self._read(connection, centre_id)

    async def listing(self) -> list[CentreOut]:
        async with self.db.connection() as connection:
            rows = await connection.fetch(SELECT + " ORDER BY h.name, c.name LIMIT 500")
            return [await _centre_out(connection, row) for row in rows]

    async def read(self, centre_id: uuid.UUID) -> CentreOut:
        async with self.db.connection() as connection:
            return await self._read(connection, centre_id)

    async def turnaround(self, principal: Principal, centre_id: uuid.UUID) -> TurnaroundOut:
        """Received to reported over the centre's reported requests: how many, the median
        and 90th percentile in minutes, and the share reported by their due time."""
        async with self.db.connection() as connection:
            centre = await connection.fetchrow(SELECT + " WHERE c.id = $1", centre_id)
            if centre is None or not (
                await _is_admin(connection, principal, centre["hospital_id"])
                or await queries.is_reader(connection, principal, centre_id)
            ):
                raise NotFound(NO_CENTRE)
            row = await connection.fetchrow(
                """
                SELECT count(*) AS count,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes) AS median,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes) AS p90,
                       avg((reported_at <= due_at)::int) AS within_target
                  FROM (SELECT reported_at, due_at,
                               extract(epoch FROM reported_at - received_at) / 60 AS minutes
                          FROM reading_requests
                         WHERE centre_id = $1 AND status = 'reported') AS reported
                """,
                centre_id,
            )
        assert row is not None

        def number(value: Any) -> float | None:
            return round(float(value), 2) if value is not None else None

        return TurnaroundOut(
            centre_id=centre_id,
            count=row["count"],
            median_minutes=number(row["median"]),
            p90_minutes=number(row["p90"]),
            within_target=number(row["within_target"]),
        )

    async def _read(self, connection: Connection, centre_id: uuid.UUID) -> CentreOut:
        row = await connection.fetchrow(SELECT + " WHERE c.id = $1", centre_id)
        if row is None:
            raise NotFound(NO_CENTRE)
        return await _centre_out(connection, row)

    async def _administered(
        self, connection: Connection, principal: Principal, centre_id: uuid.UUID
    ) -> asyncpg.Record:
        row = await connection.fetchrow(
            "SELECT * FROM reading_centres WHERE id = $1 FOR UPDATE", centre_id
        )
        if row is None or not await _is_admin(connection, principal, row["hospital_id"]):
            raise NotFound(NO_CENTRE)
        return row
