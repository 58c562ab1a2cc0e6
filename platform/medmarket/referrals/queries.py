"""Reading referrals as each party may see them. Whoever may not see one gets the 404 of a
referral that does not exist: the patient's account, the referring doctor and the target
hospital's admins (once the patient consented) see it; nobody else does."""

from __future__ import annotations

import uuid
from typing import Literal

import asyncpg

from medmarket.accounts.service import Principal
from medmarket.db import Connection
from medmarket.errors import NotFound
from medmarket.referrals.schemas import (
    AppointmentOut,
    AttachmentRef,
    DoctorRef,
    DownReferralOut,
    EventOut,
    Named,
    ReferralOut,
    RefusalOut,
    SendingOut,
)

NOT_FOUND = "no such referral"
Party = Literal["patient", "doctor", "hospital_admin"]

SELECT = """
    SELECT r.*, p.real_name AS patient_name, d.full_name AS doctor_name,
           d.user_id AS doctor_user_id, dh.name AS doctor_hospital, h.name AS hospital_name
      FROM referrals r
      JOIN patients p ON p.id = r.patient_id
      JOIN doctors d ON d.id = r.doctor_id
      JOIN hospitals dh ON dh.id = d.hospital_id
      LEFT JOIN hospitals h ON h.id = r.hospital_id
"""
# Who sees what: $2 is the reader's user id.
VISIBLE: dict[Party, str] = {
    # Once the doctor sent it to them: never a draft, nor a draft the doctor dropped.
    "patient": "r.account_id = $2 AND r.submitted_at IS NOT NULL",
    "doctor": "d.user_id = $2",
    "hospital_admin": (
        "r.consented_at IS NOT NULL AND r.hospital_id IN "
        "(SELECT hospital_id FROM hospital_admins WHERE user_id = $2)"
    ),
}

DOWN_SELECT = """
    SELECT dr.*, h.name AS hospital_name, d.full_name AS doctor_name, dh.name AS doctor_hospital,
           p.real_name AS patient_name, r.department, r.reason, r.doctor_id AS referring_doctor_id
      FROM down_referrals dr
      JOIN referrals r ON r.id = dr.referral_id
      JOIN hospitals h ON h.id = dr.hospital_id
      JOIN doctors d ON d.id = dr.to_doctor_id
      JOIN hospitals dh ON dh.id = d.hospital_id
      JOIN patients p ON p.id = dr.patient_id
"""


def party(principal: Principal) -> Party:
    if principal.role in ("patient", "doctor", "hospital_admin"):
        return principal.role
    raise NotFound(NOT_FOUND)


async def visible(
    connection: Connection, principal: Principal, referral_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record:
    """The referral if ``principal`` may see it (locked FOR UPDATE OF r with ``lock``)."""
    who = party(principal)
    row = await connection.fetchrow(
        SELECT + f" WHERE r.id = $1 AND {VISIBLE[who]}" + (" FOR UPDATE OF r" if lock else ""),
        referral_id,
        principal.user_id,
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


async def listed(
    connection: Connection, principal: Principal, limit: int = 100
) -> list[ReferralOut]:
    who = party(principal)
    rows = await connection.fetch(
        SELECT + f" WHERE {VISIBLE[who]} ORDER BY r.created_at DESC LIMIT $1",
        limit,
        principal.user_id,
    )
    return [referral_out(row, who) for row in rows]


def referral_out(
    row: asyncpg.Record,
    reader: Party,
    *,
    attachments: list[AttachmentRef] | None = None,
    timeline: list[EventOut] | None = None,
    down_referral: DownReferralOut | None = None,
) -> ReferralOut:
    appointment = (
        AppointmentOut(
            starts_at=row["appointment_at"],
            place=row["place"],
            department=row["appointment_department"] or row["department"],
            ticket=row["ticket"],
            instructions=row["instructions"] or "",
        )
        if row["appointment_at"] is not None
        else None
    )
    refusal = (
        RefusalOut(code=row["refusal_code"], reason=row["refusal"] or "")
        if row["refusal_code"] is not None
        else None
    )
    sending = (
        SendingOut(
            attempts=row["send_attempts"],
            answered=row["sent_at"] is not None,
            waiting_since=row["consented_at"],
        )
        if row["consented_at"] is not None and reader != "hospital_admin"
        else None
    )
    return ReferralOut(
        id=row["id"],
        status=row["status"],
        origin=row["origin"],
        booking_id=row["booking_id"],
        patient=Named(id=row["patient_id"], name=row["patient_name"]),
        doctor=DoctorRef(
            id=row["doctor_id"], name=row["doctor_name"], hospital=row["doctor_hospital"]
        ),
        hospital=(
            Named(id=row["hospital_id"], name=row["hospital_name"])
            if row["hospital_id"] is not None
            else None
        ),
        department=row["department"],
        urgency=row["urgency"],
        reason=row["reason"],
        clinical_summary=row["clinical_summary"],
        emergency_advice=row["emergency_advice"],
        created_at=row["created_at"],
        status_changed_at=row["status_changed_at"],
        submitted_at=row["submitted_at"],
        consented_at=row["consented_at"],
        appointment=appointment,
        refusal=refusal,
        sending=sending,
        cancel_reason=row["cancel_reason"],
        attachments=attachments or [],
        timeline=timeline or [],
        down_referral=down_referral,
    )


async def attachments_of(connection: Connection, referral_id: uuid.UUID) -> list[AttachmentRef]:
    rows = await connection.fetch(
        """
        SELECT a.id, a.original_name, a.content_type, a.size_bytes
          FROM referral_attachments ra JOIN consultation_attachments a ON a.id = ra.attachment_id
         WHERE ra.referral_id = $1 ORDER BY a.uploaded_at, a.id
        """,
        referral_id,
    )
    return [
        AttachmentRef(
            id=r["id"],
            name=r["original_name"],
            content_type=r["content_type"],
            size_bytes=r["size_bytes"],
        )
        for r in rows
    ]


async def timeline_of(connection: Connection, referral_id: uuid.UUID) -> list[EventOut]:
    rows = await connection.fetch(
        "SELECT status, at, source, note FROM referral_events WHERE referral_id = $1 ORDER BY id",
        referral_id,
    )
    return [
        EventOut(status=r["status"], at=r["at"], source=r["source"], note=r["note"]) for r in rows
    ]


def down_referral_out(row: asyncpg.Record) -> DownReferralOut:
    return DownReferralOut(
        id=row["id"],
        referral_id=row["referral_id"],
        status=row["status"],
        hospital=Named(id=row["hospital_id"], name=row["hospital_name"]),
        to_doctor=DoctorRef(
            id=row["to_doctor_id"], name=row["doctor_name"], hospital=row["doctor_hospital"]
        ),
        patient=Named(id=row["patient_id"], name=row["patient_name"]),
        summary=row["summary"],
        follow_up=row["follow_up"],
        created_at=row["created_at"],
        acknowledged_at=row["acknowledged_at"],
        department=row["department"],
        reason=row["reason"],
    )


async def down_referral_of(
    connection: Connection, referral_id: uuid.UUID
) -> DownReferralOut | None:
    row = await connection.fetchrow(DOWN_SELECT + " WHERE dr.referral_id = $1", referral_id)
    return down_referral_out(row) if row is not None else None


async def full(connection: Connection, row: asyncpg.Record, reader: Party) -> ReferralOut:
    """The referral with its files, timeline and down-referral."""
    return referral_out(
        row,
        reader,
        attachments=await attachments_of(connection, row["id"]),
        timeline=await timeline_of(connection, row["id"]),
        down_referral=await down_referral_of(connection, row["id"]),
    )
