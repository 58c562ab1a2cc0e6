"""The renewals' SQL: a request with what it is about (the earlier prescription, the
patient, the doctor), read as the API shows it."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket.db import Connection
from medmarket.errors import NotFound
from medmarket.prescriptions.renewals.schemas import RenewalOut

NOT_FOUND = "no such renewal request"

SELECT = """
    SELECT r.id, r.prescription_id, r.patient_id, r.doctor_id, r.requested_by, r.note,
           r.price_fen, r.currency, r.status, r.status_changed_at, r.requested_at, r.pay_by,
           r.paid_at, r.answer_due_at, r.closed_at, r.renewal_id, r.visit_message,
           p.consultation_id, p.diagnosis, pt.real_name AS patient_name,
           d.full_name AS doctor_name, d.user_id AS doctor_user_id
      FROM prescription_renewals r
      JOIN prescriptions p ON p.id = r.prescription_id
      JOIN patients pt ON pt.id = r.patient_id
      JOIN doctors d ON d.id = r.doctor_id
"""

# When the visit a prescription comes from was written for: its own written_at, or for a
# renewal that of the prescription it renews, and so on back to the visit's.
FOLLOWED_UP_SINCE = """
    WITH RECURSIVE line AS (
        SELECT id, renews, written_at FROM prescriptions WHERE id = $1
        UNION ALL
        SELECT p.id, p.renews, p.written_at FROM prescriptions p JOIN line ON p.id = line.renews
    )
    SELECT written_at FROM line WHERE renews IS NULL
"""


def renewal_out(row: asyncpg.Record) -> RenewalOut:
    return RenewalOut(
        id=row["id"],
        prescription_id=row["prescription_id"],
        consultation_id=row["consultation_id"],
        diagnosis=row["diagnosis"],
        patient_id=row["patient_id"],
        patient_name=row["patient_name"],
        doctor_id=row["doctor_id"],
        doctor_name=row["doctor_name"],
        note=row["note"],
        price_fen=row["price_fen"],
        currency=row["currency"],
        status=row["status"],
        status_changed_at=row["status_changed_at"],
        requested_at=row["requested_at"],
        pay_by=row["pay_by"],
        paid_at=row["paid_at"],
        answer_due_at=row["answer_due_at"],
        closed_at=row["closed_at"],
        renewal_id=row["renewal_id"],
        visit_message=row["visit_message"],
    )


async def fetch_one(
    connection: Connection | asyncpg.Pool,
    renewal_id: uuid.UUID,
    *,
    lock: bool = False,
    skip_locked: bool = False,
) -> asyncpg.Record | None:
    """The request (locked for a change: ``skip_locked`` answers None while another holds
    it), or None."""
    suffix = " FOR UPDATE OF r" + (" SKIP LOCKED" if skip_locked else "") if lock else ""
    row: asyncpg.Record | None = await connection.fetchrow(
        SELECT + " WHERE r.id = $1" + suffix, renewal_id
    )
    return row


async def visible(
    connection: Connection | asyncpg.Pool,
    renewal_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    lock: bool = False,
) -> asyncpg.Record:
    """The request, for the account that asked for it or its doctor; anyone else is told it
    does not exist, exactly as for one that does not."""
    row = await fetch_one(connection, renewal_id, lock=lock)
    if row is None or user_id not in (row["requested_by"], row["doctor_user_id"]):
        raise NotFound(NOT_FOUND)
    return row


async def followed_up_since(connection: Connection, prescription_id: uuid.UUID) -> dt.datetime:
    since: dt.datetime = await connection.fetchval(FOLLOWED_UP_SINCE, prescription_id)
    return since
