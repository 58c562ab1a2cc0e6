"""What happened to the patient at the hospital, and the way back down (下转).

Outcomes arrive two ways: the hospital's admin records them on the platform (the hospital
desk), or the hospital's system reports them when asked (``referral_status``, polled by the
follow-up job). Each is applied once: a system's event by its id (or its status and time),
however often it is reported; one reported late (seen, after admitted) is kept in the
timeline without moving the referral back.

``referred_back`` discharges the patient to a doctor on the platform for follow-up (the
county or township doctor who referred them, unless the hospital names another): a
down-referral with the discharge summary, in that doctor's queue.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database, fetch_one
from medmarket.errors import FieldError, InvalidInput, NotFound
from medmarket.notifications.service import notify
from medmarket.referrals import queries
from medmarket.referrals.schemas import DownReferralOut, OutcomeIn, ReferralOut
from medmarket.referrals.states import (
    ReferralStatus,
    Source,
    WrongReferralStatus,
    can_move,
    move,
    record_event,
)

NO_SUMMARY = "出院小结见医院病历 (the discharge summary is in the hospital's record)"
DOWN_NOT_FOUND = "no such down-referral"


async def apply_outcome(
    connection: Connection,
    row: asyncpg.Record,
    target: ReferralStatus,
    context: AuditContext,
    source: Source,
    *,
    at: dt.datetime | None = None,
    note: str = "",
    event_key: str | None = None,
    summary: str | None = None,
    follow_up: str = "",
    to_doctor_id: uuid.UUID | None = None,
    strict: bool = False,
) -> bool:
    """Apply one outcome to ``row`` (locked, with ``doctor_user_id``); True when it changed
    the referral. ``strict`` (a person recording it): a move the referral cannot make is
    refused (409) instead of kept in the timeline."""
    if event_key is not None and await connection.fetchval(
        "SELECT 1 FROM referral_events WHERE referral_id = $1 AND event_key = $2",
        row["id"],
        event_key,
    ):
        return False
    if not can_move(row["status"], target):
        if strict:
            raise WrongReferralStatus(
                f"the referral is {row['status']}; it cannot become {target}",
                status_now=row["status"],
            )
        if row["status"] in ("seen", "admitted", "discharged", "referred_back", "no_show"):
            await record_event(
                connection,
                row["id"],
                target,
                context,
                source,
                note=note,
                at=at,
                event_key=event_key,
            )
        return False
    if target == "referred_back":
        receiving = await _receiving_doctor(connection, row, to_doctor_id, strict=strict)
    await move(connection, row, target, context, source, note=note, at=at, event_key=event_key)
    params = {"referral_id": row["id"], "status": target}
    await notify(
        connection,
        row["doctor_user_id"],
        "referral.outcome",
        params,
        dedupe_key=f"{row['id']}:{target}",
    )
    if target == "referred_back":
        await _send_down(
            connection, row, receiving, summary or note or NO_SUMMARY, follow_up, context
        )
    return True


async def _receiving_doctor(
    connection: Connection, row: asyncpg.Record, to_doctor_id: uuid.UUID | None, *, strict: bool
) -> asyncpg.Record:
    """The follow-up doctor: one an admin names must be approved; the referring doctor,
    whom a hospital's system sends the patient back to, is taken whatever their status
    now (their queue shows it, and an operator can hand it on)."""
    doctor = await connection.fetchrow(
        "SELECT id, user_id FROM doctors WHERE id = $1 AND (status = 'approved' OR NOT $2)",
        to_doctor_id or row["doctor_id"],
        strict,
    )
    if doctor is None:
        raise InvalidInput(
            "the follow-up doctor is not an approved doctor on the platform",
            errors=[FieldError(field="to_doctor_id", message="not an approved doctor")],
        )
    return doctor


async def _send_down(
    connection: Connection,
    row: asyncpg.Record,
    doctor: asyncpg.Record,
    summary: str,
    follow_up: str,
    context: AuditContext,
) -> None:
    down_id = await connection.fetchval(
        """
        INSERT INTO down_referrals (referral_id, hospital_id, to_doctor_id, patient_id,
                                    account_id, summary, follow_up, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (referral_id) DO NOTHING
        RETURNING id
        """,
        row["id"],
        row["hospital_id"],
        doctor["id"],
        row["patient_id"],
        row["account_id"],
        summary.strip()[:4000],
        follow_up.strip()[:2000],
        context.actor_id,
    )
    if down_id is None:
        return
    await audit.record(
        connection,
        context,
        "down_referral.sent",
        "down_referral",
        down_id,
        detail={"referral_id": str(row["id"]), "to_doctor_id": str(doctor["id"])},
    )
    params = {"down_referral_id": down_id, "referral_id": row["id"]}
    await notify(
        connection,
        doctor["user_id"],
        "referral.down_received",
        params,
        dedupe_key=str(down_id),
        urgency="high",
    )
    await notify(
        connection, row["account_id"], "referral.referred_back", params, dedupe_key=str(down_id)
    )


class HospitalDesk:
    """The partner hospital's admins: the referrals sent to their hospital, and outcomes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, principal: Principal, referral_id: uuid.UUID, data: OutcomeIn, context: AuditContext
    ) -> ReferralOut:
        if principal.role != "hospital_admin":
            raise NotFound(queries.NOT_FOUND)
        at = data.at
        if at is not None and (
            at.tzinfo is None or at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        ):
            raise InvalidInput(
                "when it happened: a time with its offset, not in the future",
                errors=[FieldError(field="at", message="an aware time, not in the future")],
            )
        if data.status == "referred_back" and not data.summary:
            raise InvalidInput(
                "a down-referral needs the discharge summary",
                errors=[FieldError(field="summary", message="required with referred_back")],
            )
        async with self.db.transaction() as connection:
            row = await queries.visible(connection, principal, referral_id, lock=True)
            await apply_outcome(
                connection,
                row,
                data.status,
                context,
                "hospital_admin",
                at=at,
                note=data.note,
                summary=data.summary,
                follow_up=data.follow_up,
                to_doctor_id=data.to_doctor_id,
                strict=True,
            )
            fresh = await queries.visible(connection, principal, referral_id)
            return await queries.full(connection, fresh, "hospital_admin")


class DownReferrals:
    """A down-referral as its receiving doctor (who acknowledges it), the referring
    doctor, the patient and the hospital see it."""

    VISIBLE = """
        (d.user_id = $2
         OR dr.account_id = $2
         OR r.doctor_id IN (SELECT id FROM doctors WHERE user_id = $2)
         OR dr.hospital_id IN (SELECT hospital_id FROM hospital_admins WHERE user_id = $2))
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def queue(self, principal: Principal) -> list[DownReferralOut]:
        """The receiving doctor's queue, newest first, unacknowledged ones first."""
        rows = await self.db.fetch(
            queries.DOWN_SELECT
            + " WHERE d.user_id = $1"
            + " ORDER BY dr.status = 'acknowledged', dr.created_at DESC LIMIT 100",
            principal.user_id,
        )
        return [queries.down_referral_out(row) for row in rows]

    async def read(self, principal: Principal, down_id: uuid.UUID) -> DownReferralOut:
        row = await self.db.fetchrow(
            queries.DOWN_SELECT + f" WHERE dr.id = $1 AND {self.VISIBLE}",
            down_id,
            principal.user_id,
        )
        if row is None:
            raise NotFound(DOWN_NOT_FOUND)
        return queries.down_referral_out(row)

    async def acknowledge(
        self, principal: Principal, down_id: uuid.UUID, context: AuditContext
    ) -> DownReferralOut:
        async with self.db.transaction() as connection:
            row = await connection.fetchrow(
                queries.DOWN_SELECT + " WHERE dr.id = $1 AND d.user_id = $2 FOR UPDATE OF dr",
                down_id,
                principal.user_id,
            )
            if row is None:
                raise NotFound(DOWN_NOT_FOUND)
            if row["status"] == "sent":
                await connection.execute(
                    "UPDATE down_referrals SET status = 'acknowledged', acknowledged_at = now() "
                    "WHERE id = $1",
                    down_id,
                )
                await audit.record(
                    connection,
                    context,
                    "down_referral.acknowledged",
                    "down_referral",
                    down_id,
                    detail={"referral_id": str(row["referral_id"])},
                )
            fresh = await fetch_one(connection, queries.DOWN_SELECT + " WHERE dr.id = $1", down_id)
            return queries.down_referral_out(fresh)
