"""Reading requests as each party may see them. Whoever may not see one gets the 404 of a
request that does not exist: the requesting doctor, the centre's readers and the admins of
the centre's hospital see it; nobody else does (not another doctor, another hospital's
admin, nor a patient)."""

from __future__ import annotations

import uuid

import asyncpg

from medmarket.accounts.service import Principal
from medmarket.db import Connection
from medmarket.errors import NotFound
from medmarket.readings.schemas import (
    EventOut,
    FileOut,
    Named,
    ReadingOut,
    ReportOut,
    SignatureOut,
)

NOT_FOUND = "no such reading request"

SELECT = """
    SELECT r.*, c.name AS centre_name, c.hospital_id, d.full_name AS requester_name,
           d.user_id AS requester_user_id, p.real_name AS patient_name,
           cl.reader_id AS claimed_by_id, cd.full_name AS claimed_by_name,
           cd.user_id AS claimed_by_user_id
      FROM reading_requests r
      JOIN reading_centres c ON c.id = r.centre_id
      JOIN doctors d ON d.id = r.requester_id
      JOIN patients p ON p.id = r.patient_id
      LEFT JOIN reading_claims cl ON cl.request_id = r.id AND cl.released_at IS NULL
      LEFT JOIN doctors cd ON cd.id = cl.reader_id
"""
# Who sees a request: $2 is the reader's user id.
READER_OF_CENTRE = (
    "r.centre_id IN (SELECT rr.centre_id FROM reading_centre_readers rr "
    "JOIN doctors rd ON rd.id = rr.doctor_id WHERE rd.user_id = $2)"
)
VISIBLE = {
    "doctor": f"(d.user_id = $2 OR {READER_OF_CENTRE})",
    "hospital_admin": (
        "c.hospital_id IN (SELECT hospital_id FROM hospital_admins WHERE user_id = $2)"
    ),
}


def condition(principal: Principal) -> str:
    rule = VISIBLE.get(principal.role)
    if rule is None:
        raise NotFound(NOT_FOUND)
    return rule


async def visible(
    connection: Connection, principal: Principal, request_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record:
    """The request if ``principal`` may see it (locked FOR UPDATE OF r with ``lock``)."""
    row = await connection.fetchrow(
        SELECT
        + f" WHERE r.id = $1 AND {condition(principal)}"
        + (" FOR UPDATE OF r" if lock else ""),
        request_id,
        principal.user_id,
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


async def is_reader(connection: Connection, principal: Principal, centre_id: uuid.UUID) -> bool:
    found = await connection.fetchval(
        "SELECT 1 FROM reading_centre_readers rr JOIN doctors d ON d.id = rr.doctor_id "
        "WHERE rr.centre_id = $1 AND d.user_id = $2 AND d.status = 'approved'",
        centre_id,
        principal.user_id,
    )
    return found is not None


def reading_out(
    row: asyncpg.Record,
    *,
    files: list[FileOut] | None = None,
    report: ReportOut | None = None,
    timeline: list[EventOut] | None = None,
) -> ReadingOut:
    return ReadingOut(
        id=row["id"],
        status=row["status"],
        centre=Named(id=row["centre_id"], name=row["centre_name"]),
        requester=Named(id=row["requester_id"], name=row["requester_name"]),
        patient=Named(id=row["patient_id"], name=row["patient_name"]),
        booking_id=row["booking_id"],
        kind=row["kind"],
        urgency=row["urgency"],
        question=row["question"],
        received_at=row["received_at"],
        due_at=row["due_at"],
        reported_at=row["reported_at"],
        claimed_by=(
            Named(id=row["claimed_by_id"], name=row["claimed_by_name"])
            if row["claimed_by_id"] is not None
            else None
        ),
        cancel_reason=row["cancel_reason"],
        files=files or [],
        report=report,
        timeline=timeline or [],
    )


def file_out(row: asyncpg.Record) -> FileOut:
    return FileOut(
        id=row["id"],
        name=row["original_name"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=bytes(row["sha256"]).hex(),
        modality=row["modality"],
        study_date=row["study_date"],
        body_part=row["body_part"],
        rows=row["pixel_rows"],
        columns=row["pixel_columns"],
        frames=row["frames"],
    )


async def files_of(connection: Connection, request_id: uuid.UUID) -> list[FileOut]:
    rows = await connection.fetch(
        "SELECT * FROM reading_files WHERE request_id = $1 ORDER BY position", request_id
    )
    return [file_out(row) for row in rows]


async def report_of(connection: Connection, request_id: uuid.UUID) -> ReportOut | None:
    row = await connection.fetchrow(
        "SELECT rp.*, d.full_name AS reader_name FROM reading_reports rp "
        "JOIN doctors d ON d.id = rp.reader_id WHERE rp.request_id = $1",
        request_id,
    )
    if row is None:
        return None
    return ReportOut(
        findings=row["findings"],
        impression=row["impression"],
        critical=row["critical"],
        critical_note=row["critical_note"],
        signature=SignatureOut(
            reader=Named(id=row["reader_id"], name=row["reader_name"]),
            signed_at=row["signed_at"],
            content_sha256=bytes(row["content_sha256"]).hex(),
        ),
    )


async def timeline_of(connection: Connection, request_id: uuid.UUID) -> list[EventOut]:
    rows = await connection.fetch(
        "SELECT status, at, note FROM reading_events WHERE request_id = $1 ORDER BY id",
        request_id,
    )
    return [EventOut(status=r["status"], at=r["at"], note=r["note"]) for r in rows]


async def full(connection: Connection, row: asyncpg.Record) -> ReadingOut:
    """The request with its files, report and timeline."""
    return reading_out(
        row,
        files=await files_of(connection, row["id"]),
        report=await report_of(connection, row["id"]),
        timeline=await timeline_of(connection, row["id"]),
    )


async def reload(connection: Connection, request_id: uuid.UUID) -> ReadingOut:
    row = await connection.fetchrow(SELECT + " WHERE r.id = $1", request_id)
    assert row is not None
    return await full(connection, row)
