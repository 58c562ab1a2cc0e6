"""The referring doctor's and the patient's side of a referral.

A doctor refers from a visit (during or after it): to a partner hospital's department,
with an urgency, the reason, a clinical summary and the visit's files. The platform drafts
one itself when a doctor ends a first visit as not fit for online care
(``referral.suggested``, queued by the bookings domain), for the doctor to complete.
Nothing goes to a hospital before the patient's account agrees to share the record with it;
an emergency's advice (what to do now) is shown to the patient at once all the same.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from medmarket import audit, outbox
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.audit.service import SYSTEM
from medmarket.db import Connection, Database
from medmarket.errors import Conflict, FieldError, InvalidInput, NotFound
from medmarket.notifications.service import notify
from medmarket.referrals import queries
from medmarket.referrals.schemas import (
    CancelIn,
    DeclineIn,
    ReferralDetails,
    ReferralIn,
    ReferralOut,
)
from medmarket.referrals.states import AT_HOSPITAL, LIVE, SUBJECT, move, record_event

SEND_TOPIC = "referrals.send"
CANCEL_TOPIC = "referrals.cancel"
SUGGESTED_TOPIC = "referral.suggested"  # queued by bookings' "first visit unsuitable" ending
# A visit a doctor may refer from: paid and under way, or over.
REFERABLE_VISITS = ("confirmed", "completed", "terminated")


class ReferralAlreadyOpen(Conflict):
    """The visit has a live referral (``referral_id``): finish or cancel it first."""

    slug, title = "referral-already-open", "This visit already has a referral under way"


async def queue_send(
    connection: Connection, referral_id: uuid.UUID, attempt: int, delay: float = 0
) -> None:
    await outbox.enqueue(
        connection,
        SEND_TOPIC,
        {"referral_id": str(referral_id), "attempt": attempt},
        dedupe_key=f"{SEND_TOPIC}:{referral_id}:{attempt}",
        delay_seconds=delay,
    )


async def queue_cancel(
    connection: Connection,
    referral_id: uuid.UUID,
    attempt: int,
    delay: float = 0,
    *,
    round_: str = "asked",
) -> None:
    """Tell the hospital the referral is off. ``round_`` "late-answer": the hospital answered
    a try that was under way when the referral was cancelled (that cancellation may have
    reached it first, before it knew the referral)."""
    await outbox.enqueue(
        connection,
        CANCEL_TOPIC,
        {"referral_id": str(referral_id), "attempt": attempt, "round": round_},
        dedupe_key=f"{CANCEL_TOPIC}:{referral_id}:{round_}:{attempt}",
        delay_seconds=delay,
    )


class Referring:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading ---------------------------------------------------------------------------
    async def list(self, principal: Principal) -> list[ReferralOut]:
        async with self.db.connection() as connection:
            return await queries.listed(connection, principal)

    async def read(
        self, principal: Principal, referral_id: uuid.UUID, context: AuditContext | None = None
    ) -> ReferralOut:
        """The referral; a hospital's admin reading it (the patient's record, shared with
        the hospital) is audited when ``context`` says who and from where."""
        async with self.db.transaction() as connection:
            row = await queries.visible(connection, principal, referral_id)
            if context is not None and principal.role == "hospital_admin":
                await audit.record(connection, context, "referral.read", SUBJECT, referral_id)
            return await queries.full(connection, row, queries.party(principal))

    async def _fresh(
        self, connection: Connection, principal: Principal, referral_id: uuid.UUID
    ) -> ReferralOut:
        row = await queries.visible(connection, principal, referral_id)
        return await queries.full(connection, row, queries.party(principal))

    # -- the doctor ------------------------------------------------------------------------
    async def refer(
        self, principal: Principal, data: ReferralIn, context: AuditContext
    ) -> ReferralOut:
        """A referral from the doctor's visit ``data.booking_id``, sent to the patient to agree."""
        async with self.db.transaction() as connection:
            visit = await connection.fetchrow(
                """
                SELECT b.id, b.status, b.patient_id, p.account_id, b.doctor_id
                  FROM bookings b
                  JOIN doctors d ON d.id = b.doctor_id
                  JOIN patients p ON p.id = b.patient_id
                 WHERE b.id = $1 AND d.user_id = $2
                   FOR UPDATE OF b
                """,
                data.booking_id,
                principal.user_id,
            )
            if visit is None:
                raise NotFound("no such visit", field="booking_id")
            if visit["status"] not in REFERABLE_VISITS:
                raise Conflict(
                    f"this visit is {visit['status']}: refer from a visit under way or over",
                    field="booking_id",
                )
            await self._no_open_referral(connection, data.booking_id)
            referral_id = await connection.fetchval(
                """
                INSERT INTO referrals
                       (booking_id, origin, patient_id, account_id, doctor_id, status)
                VALUES ($1, 'doctor', $2, $3, $4, 'draft') RETURNING id
                """,
                visit["id"],
                visit["patient_id"],
                visit["account_id"],
                visit["doctor_id"],
            )
            row = await queries.visible(connection, principal, referral_id, lock=True)
            await self._submit(connection, row, data, context)
            return await self._fresh(connection, principal, referral_id)

    async def submit(
        self,
        principal: Principal,
        referral_id: uuid.UUID,
        data: ReferralDetails,
        context: AuditContext,
    ) -> ReferralOut:
        """Complete a draft (the platform's, after a visit not fit for online care)."""
        async with self.db.transaction() as connection:
            row = await queries.visible(connection, principal, referral_id, lock=True)
            self._own(principal, row)
            await self._submit(connection, row, data, context)
            return await self._fresh(connection, principal, referral_id)

    async def _no_open_referral(self, connection: Connection, booking_id: uuid.UUID) -> None:
        open_id = await connection.fetchval(
            "SELECT id FROM referrals WHERE booking_id = $1 AND status = ANY($2::text[])",
            booking_id,
            sorted(LIVE),
        )
        if open_id is not None:
            raise ReferralAlreadyOpen(
                "this visit has a referral under way", field="booking_id", referral_id=str(open_id)
            )

    @staticmethod
    def _own(principal: Principal, row: asyncpg.Record) -> None:
        if principal.role != "doctor" or row["doctor_user_id"] != principal.user_id:
            raise NotFound(queries.NOT_FOUND)

    async def _submit(
        self,
        connection: Connection,
        row: asyncpg.Record,
        data: ReferralDetails,
        context: AuditContext,
    ) -> None:
        await _check_target(connection, data)
        if data.urgency == "emergency" and not data.emergency_advice:
            raise InvalidInput(
                "an emergency needs what the patient must do now",
                errors=[FieldError(field="emergency_advice", message="required for an emergency")],
            )
        await _check_attachments(connection, row["booking_id"], data.attachment_ids)
        await connection.execute(
            """
            UPDATE referrals
               SET hospital_id = $2, department = $3, urgency = $4, reason = $5,
                   clinical_summary = $6, emergency_advice = $7, submitted_at = now()
             WHERE id = $1
            """,
            row["id"],
            data.hospital_id,
            data.department.strip(),
            data.urgency,
            data.reason.strip(),
            data.clinical_summary.strip(),
            data.emergency_advice.strip() if data.emergency_advice else None,
        )
        await connection.executemany(
            "INSERT INTO referral_attachments (referral_id, attachment_id) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING",
            [(row["id"], attachment) for attachment in dict.fromkeys(data.attachment_ids)],
        )
        await move(
            connection,
            row,
            "awaiting_consent",
            context,
            "doctor",
            detail={
                "hospital_id": str(data.hospital_id),
                "department": data.department,
                "urgency": data.urgency,
                "attachments": len(data.attachment_ids),
            },
        )
        params: dict[str, Any] = {
            "referral_id": row["id"],
            "department": data.department,
            "urgency": data.urgency,
        }
        if data.emergency_advice:
            params["emergency_advice"] = data.emergency_advice
        await notify(
            connection,
            row["account_id"],
            "referral.awaiting_consent",
            params,
            dedupe_key=str(row["id"]),
            urgency="high" if data.urgency != "routine" else "normal",
        )

    # -- the patient -----------------------------------------------------------------------
    async def consent(
        self, principal: Principal, referral_id: uuid.UUID, context: AuditContext
    ) -> ReferralOut:
        """The patient's account agrees to share the record with the hospital: it is sent."""
        async with self.db.transaction() as connection:
            row = await self._patients(connection, principal, referral_id)
            await connection.execute(
                "UPDATE referrals SET consented_at = now() "
                "WHERE id = $1 AND status = 'awaiting_consent'",
                referral_id,
            )
            await move(connection, row, "pending", context, "patient")
            await queue_send(connection, referral_id, 0)
            return await self._fresh(connection, principal, referral_id)

    async def decline(
        self, principal: Principal, referral_id: uuid.UUID, data: DeclineIn, context: AuditContext
    ) -> ReferralOut:
        async with self.db.transaction() as connection:
            row = await self._patients(connection, principal, referral_id)
            await move(connection, row, "declined", context, "patient", note=data.reason)
            await notify(
                connection,
                row["doctor_user_id"],
                "referral.declined",
                {"referral_id": referral_id, "patient": row["patient_name"]},
                dedupe_key=str(referral_id),
            )
            return await self._fresh(connection, principal, referral_id)

    async def _patients(
        self, connection: Connection, principal: Principal, referral_id: uuid.UUID
    ) -> asyncpg.Record:
        if principal.role != "patient":
            raise NotFound(queries.NOT_FOUND)
        return await queries.visible(connection, principal, referral_id, lock=True)

    # -- either ----------------------------------------------------------------------------
    async def cancel(
        self, principal: Principal, referral_id: uuid.UUID, data: CancelIn, context: AuditContext
    ) -> ReferralOut:
        """The doctor or the patient calls it off; a hospital that was asked is told."""
        async with self.db.transaction() as connection:
            row = await queries.visible(connection, principal, referral_id, lock=True)
            if principal.role not in ("doctor", "patient"):
                raise NotFound(queries.NOT_FOUND)
            await connection.execute(
                "UPDATE referrals SET cancelled_by = $2, cancel_reason = $3 WHERE id = $1",
                referral_id,
                principal.user_id,
                data.reason.strip(),
            )
            await move(
                connection,
                row,
                "cancelled",
                context,
                principal.role,
                note=data.reason,
            )
            if row["status"] in AT_HOSPITAL:
                await queue_cancel(connection, referral_id, 0)
            other = row["account_id"] if principal.role == "doctor" else row["doctor_user_id"]
            # A draft the doctor drops was never sent to the patient: nothing to tell them.
            if row["submitted_at"] is not None:
                await notify(
                    connection,
                    other,
                    "referral.cancelled",
                    {"referral_id": referral_id, "reason": data.reason},
                    dedupe_key=str(referral_id),
                )
            return await self._fresh(connection, principal, referral_id)


async def _check_target(connection: Connection, data: ReferralDetails) -> None:
    hospital = await connection.fetchrow(
        "SELECT status, departments, adapter_type FROM hospitals WHERE id = $1", data.hospital_id
    )
    if hospital is None or hospital["status"] != "active":
        raise InvalidInput(
            "no such partner hospital",
            errors=[FieldError(field="hospital_id", message="not an active partner hospital")],
        )
    wanted = data.department.strip()
    if wanted not in hospital["departments"]:
        raise InvalidInput(
            f"the hospital has no department {wanted!r}",
            errors=[
                FieldError(
                    field="department",
                    message="one of: " + "、".join(hospital["departments"]),
                )
            ],
        )
    if hospital["adapter_type"] is None:
        raise Conflict(
            "this hospital takes no referrals online yet: its systems are not connected",
            field="hospital_id",
        )


async def _check_attachments(
    connection: Connection, booking_id: uuid.UUID | None, attachment_ids: list[uuid.UUID]
) -> None:
    if not attachment_ids:
        return
    known = {
        row["id"]
        for row in await connection.fetch(
            """
            SELECT a.id FROM consultation_attachments a
              JOIN consultations c ON c.id = a.consultation_id
             WHERE c.booking_id = $1 AND a.id = ANY($2::uuid[])
            """,
            booking_id,
            attachment_ids,
        )
    }
    errors = [
        FieldError(field=f"attachment_ids[{index}]", message="not a file of this visit")
        for index, attachment in enumerate(attachment_ids)
        if attachment not in known
    ]
    if errors:
        raise InvalidInput("a file is not of this visit", errors=errors)


async def draft_from_visit(
    connection: Connection, booking_id: uuid.UUID, note: str
) -> uuid.UUID | None:
    """The draft the platform writes for the doctor when a first visit was not fit for
    online care; None when it was drafted before or the doctor already refers."""
    referral_id: uuid.UUID | None = await connection.fetchval(
        """
        INSERT INTO referrals
               (booking_id, origin, patient_id, account_id, doctor_id, status, reason)
        SELECT b.id, 'visit_unsuitable', b.patient_id, p.account_id, b.doctor_id, 'draft', $2
          FROM bookings b JOIN patients p ON p.id = b.patient_id
         WHERE b.id = $1
        ON CONFLICT DO NOTHING
        RETURNING id
        """,
        booking_id,
        note.strip()[:1000],
    )
    if referral_id is None:
        return None
    context = SYSTEM
    await record_event(connection, referral_id, "draft", context, "platform", note=note[:2000])
    await audit.record(
        connection,
        context,
        "referral.drafted",
        SUBJECT,
        referral_id,
        detail={"booking_id": str(booking_id), "origin": "visit_unsuitable"},
    )
    doctor_user = await connection.fetchval(
        "SELECT d.user_id FROM referrals r JOIN doctors d ON d.id = r.doctor_id WHERE r.id = $1",
        referral_id,
    )
    await notify(
        connection,
        doctor_user,
        "referral.draft_ready",
        {"referral_id": referral_id},
        dedupe_key=str(referral_id),
        urgency="high",
    )
    return referral_id
