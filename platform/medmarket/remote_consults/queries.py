"""Reading remote consultations as each doctor in them may see them.

The requesting doctor and the invited experts see the case; an expert who declined keeps
the header (the question, the times, who answered what) but no longer the patient's
clinical content. Anyone else (another doctor, an expert of another case, a hospital's
admin, a patient, the case's own patient in this increment) gets the 404 of a case that
does not exist."""

from __future__ import annotations

import uuid

import asyncpg

from medmarket.accounts.service import Principal
from medmarket.db import Connection
from medmarket.errors import NotFound
from medmarket.remote_consults.schemas import (
    AttachmentRef,
    CaseOut,
    ClinicalOut,
    ConsentOut,
    DecisionOut,
    DoctorRef,
    EventOut,
    InvitationOut,
    OpinionOut,
    ReferralHint,
)

NOT_FOUND = "no such remote consultation"
# Where a video room may attach (a later increment): the case is scheduled and not over.
ROOM_READY = frozenset({"scheduled", "in_session"})

# $2 is the reader's user id: their invitation, if they are an expert of the case.
SELECT = """
    SELECT c.*, d.user_id AS requester_user_id, d.full_name AS requester_name,
           h.name AS requester_hospital, p.real_name AS patient_name,
           i.id AS my_invitation_id, i.status AS my_invitation_status
      FROM remote_consultations c
      JOIN doctors d ON d.id = c.requester_id
      JOIN hospitals h ON h.id = c.requester_hospital_id
      JOIN patients p ON p.id = c.patient_id
      LEFT JOIN remote_consultation_invitations i
             ON i.consultation_id = c.id
            AND i.expert_id IN (SELECT id FROM doctors WHERE user_id = $2)
"""
VISIBLE = "(d.user_id = $2 OR i.id IS NOT NULL)"


def _doctors_only(principal: Principal) -> None:
    if principal.role != "doctor":
        raise NotFound(NOT_FOUND)


async def visible(
    connection: Connection, principal: Principal, case_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record:
    """The case if ``principal`` may see it (locked FOR UPDATE OF c with ``lock``)."""
    _doctors_only(principal)
    row = await connection.fetchrow(
        SELECT + f" WHERE c.id = $1 AND {VISIBLE}" + (" FOR UPDATE OF c" if lock else ""),
        case_id,
        principal.user_id,
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def is_requester(principal: Principal, row: asyncpg.Record) -> bool:
    return bool(row["requester_user_id"] == principal.user_id)


def sees_clinical(principal: Principal, row: asyncpg.Record) -> bool:
    return is_requester(principal, row) or row["my_invitation_status"] != "declined"


async def listed(connection: Connection, principal: Principal, limit: int = 100) -> list[CaseOut]:
    """The doctor's cases, as requester and as expert; newest first (headers only)."""
    _doctors_only(principal)
    rows = await connection.fetch(
        SELECT + f" WHERE {VISIBLE} AND $1::int > 0 ORDER BY c.created_at DESC LIMIT $1",
        limit,
        principal.user_id,
    )
    return [case_out(row, principal, await invitations(connection, row, principal)) for row in rows]


async def invitations(
    connection: Connection, row: asyncpg.Record, principal: Principal
) -> list[InvitationOut]:
    records = await connection.fetch(
        """
        SELECT i.*, d.full_name, d.user_id, h.name AS hospital_name
          FROM remote_consultation_invitations i
          JOIN doctors d ON d.id = i.expert_id
          JOIN hospitals h ON h.id = d.hospital_id
         WHERE i.consultation_id = $1
         ORDER BY i.created_at, i.id
        """,
        row["id"],
    )
    requester = is_requester(principal, row)
    return [
        InvitationOut(
            id=record["id"],
            expert=DoctorRef(
                id=record["expert_id"], name=record["full_name"], hospital=record["hospital_name"]
            ),
            status=record["status"],
            accepted_time=record["accepted_time"],
            proposed_time=record["proposed_time"],
            proposal_note=record["proposal_note"],
            decline_reason=(
                record["decline_reason"]
                if requester or record["user_id"] == principal.user_id
                else None
            ),
            answered_at=record["answered_at"],
        )
        for record in records
    ]


def case_out(
    row: asyncpg.Record,
    principal: Principal,
    invited: list[InvitationOut],
    *,
    clinical: ClinicalOut | None = None,
    timeline: list[EventOut] | None = None,
) -> CaseOut:
    return CaseOut(
        id=row["id"],
        status=row["status"],
        role="requester" if is_requester(principal, row) else "expert",
        requester=DoctorRef(
            id=row["requester_id"], name=row["requester_name"], hospital=row["requester_hospital"]
        ),
        question=row["question"],
        urgency=row["urgency"],
        proposed_times=list(row["proposed_times"]),
        scheduled_at=row["scheduled_at"],
        room_ready=row["status"] in ROOM_READY,
        created_at=row["created_at"],
        status_changed_at=row["status_changed_at"],
        invitations=invited,
        my_invitation_id=row["my_invitation_id"],
        cancel_reason=row["cancel_reason"],
        clinical=clinical,
        timeline=timeline or [],
    )


async def full(connection: Connection, row: asyncpg.Record, principal: Principal) -> CaseOut:
    """The case with what the reader may see of it: the timeline, and (unless they
    declined) the patient's history, the files, the opinions and the decision."""
    invited = await invitations(connection, row, principal)
    events = await connection.fetch(
        "SELECT status, at, invitation_id, note FROM remote_consultation_events "
        "WHERE consultation_id = $1 ORDER BY at, id",
        row["id"],
    )
    timeline = [
        EventOut(
            status=event["status"],
            at=event["at"],
            invitation_id=event["invitation_id"],
            note=event["note"],
        )
        for event in events
    ]
    clinical = await _clinical(connection, row) if sees_clinical(principal, row) else None
    return case_out(row, principal, invited, clinical=clinical, timeline=timeline)


async def _clinical(connection: Connection, row: asyncpg.Record) -> ClinicalOut:
    files = await connection.fetch(
        """
        SELECT a.id, a.original_name, a.content_type, a.size_bytes
          FROM remote_consultation_attachments ra
          JOIN consultation_attachments a ON a.id = ra.attachment_id
         WHERE ra.consultation_id = $1
         ORDER BY a.uploaded_at, a.id
        """,
        row["id"],
    )
    opinions = await connection.fetch(
        """
        SELECT o.*, i.expert_id, d.full_name, h.name AS hospital_name
          FROM remote_consultation_opinions o
          JOIN remote_consultation_invitations i ON i.id = o.invitation_id
          JOIN doctors d ON d.id = i.expert_id
          JOIN hospitals h ON h.id = d.hospital_id
         WHERE o.consultation_id = $1
         ORDER BY o.created_at, o.id
        """,
        row["id"],
    )
    decision = (
        DecisionOut(
            text=row["decision"],
            decided_at=row["decided_at"],
            responsible_hospital=row["requester_hospital"],
            referral_hint=ReferralHint(booking_id=row["booking_id"]),
        )
        if row["decision"] is not None
        else None
    )
    return ClinicalOut(
        patient_name=row["patient_name"],
        clinical_history=row["clinical_history"],
        consent=ConsentOut(
            given=True,
            how=row["consent_how"],
            at=row["consent_at"],
            witnessed_by=row["consent_witnessed_by"],
        ),
        attachments=[
            AttachmentRef(
                id=file["id"],
                name=file["original_name"],
                content_type=file["content_type"],
                size_bytes=file["size_bytes"],
            )
            for file in files
        ],
        opinions=[
            OpinionOut(
                id=opinion["id"],
                invitation_id=opinion["invitation_id"],
                expert=DoctorRef(
                    id=opinion["expert_id"],
                    name=opinion["full_name"],
                    hospital=opinion["hospital_name"],
                ),
                text=opinion["text"],
                assessment=opinion["assessment"],
                recommendation=opinion["recommendation"],
                created_at=opinion["created_at"],
            )
            for opinion in opinions
        ],
        decision=decision,
    )
