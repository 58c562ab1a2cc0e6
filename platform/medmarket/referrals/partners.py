"""What the referral pages need besides the referrals themselves: the partner hospitals a
doctor may refer to (active, with their systems connected) and their departments; the
files of the doctor's visit to send along; the patient's facts the hospital receives; and
the referral of a visit, for a link from the visit's page. Reading only: ``Referring``
checks everything again when the form is posted."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from medmarket.db import Database
from medmarket.errors import NotFound


class PartnerHospital(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    departments: list[str]


class VisitFile(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    content_type: str
    size_bytes: int


class PatientFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the hospital receives about the patient (besides the doctor's summary)."""

    name: str
    date_of_birth: dt.date
    sex: str | None
    phone: str | None


async def partner_hospitals(db: Database) -> list[PartnerHospital]:
    """Hospitals that take referrals online now, by name."""
    rows = await db.fetch(
        "SELECT id, name, departments FROM hospitals "
        "WHERE status = 'active' AND adapter_type IS NOT NULL ORDER BY name, id"
    )
    return [
        PartnerHospital(id=r["id"], name=r["name"], departments=list(r["departments"]))
        for r in rows
    ]


async def visit_files(
    db: Database, doctor_user_id: uuid.UUID, booking_id: uuid.UUID
) -> list[VisitFile]:
    """The files shared in the doctor's visit ``booking_id``; NotFound for anyone else's."""
    owned = await db.fetchval(
        "SELECT b.id FROM bookings b JOIN doctors d ON d.id = b.doctor_id "
        "WHERE b.id = $1 AND d.user_id = $2",
        booking_id,
        doctor_user_id,
    )
    if owned is None:
        raise NotFound("no such visit")
    rows = await db.fetch(
        """
        SELECT a.id, a.original_name, a.content_type, a.size_bytes
          FROM consultation_attachments a JOIN consultations c ON c.id = a.consultation_id
         WHERE c.booking_id = $1 ORDER BY a.uploaded_at, a.id
        """,
        booking_id,
    )
    return [
        VisitFile(
            id=r["id"],
            name=r["original_name"],
            content_type=r["content_type"],
            size_bytes=r["size_bytes"],
        )
        for r in rows
    ]


async def patient_facts(db: Database, patient_id: uuid.UUID) -> PatientFacts:
    """The patient's facts; the caller has checked the reader may see the referral."""
    row = await db.fetchrow(
        "SELECT real_name, date_of_birth, sex, phone FROM patients WHERE id = $1", patient_id
    )
    if row is None:
        raise NotFound("no such patient")
    return PatientFacts(
        name=row["real_name"],
        date_of_birth=row["date_of_birth"],
        sex=row["sex"],
        phone=row["phone"],
    )


async def latest_of_visit(
    db: Database, account_id: uuid.UUID, booking_id: uuid.UUID
) -> uuid.UUID | None:
    """The newest referral of the account's visit ``booking_id`` the doctor sent them."""
    found: uuid.UUID | None = await db.fetchval(
        "SELECT id FROM referrals WHERE booking_id = $1 AND account_id = $2 "
        "AND submitted_at IS NOT NULL ORDER BY created_at DESC LIMIT 1",
        booking_id,
        account_id,
    )
    return found
