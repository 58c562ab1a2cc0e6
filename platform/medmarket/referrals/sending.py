"""Asking the partner hospital, and applying what it answers.

The patient's consent queues ``referrals.send``; its handler builds the request, asks the
hospital's adapter (``accept_referral``, idempotent by the referral's id) outside any
transaction, and applies the decision in one. A hospital that does not answer (down, slow,
erring, its adapter missing) leaves the referral pending: the handler records the try and
queues the next one itself, later each time up to ``MAX_RETRY_SECONDS``, so an outage of
any length ends in the referral going through once, never in an abandoned message.
``referrals.cancel`` tells the hospital a referral it was asked about is off, the same way.

A job follows up what the hospital has not finished: a decision it promised
(``received``) and the outcomes after it accepted (``referral_status``).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from medmarket.audit.service import SYSTEM
from medmarket.db import Connection, Database, fetch_one
from medmarket.hospitals.adapters import ConnectedHospital, connect
from medmarket.hospitals.interface import (
    ReferralAttachment,
    ReferralDecision,
    ReferralPatient,
    ReferralRequest,
    ReferringDoctor,
)
from medmarket.notifications.service import notify
from medmarket.outbox.worker import OutboxMessage
from medmarket.plugin_manager import PluginUnavailable
from medmarket.referrals.outcomes import apply_outcome
from medmarket.referrals.referring import queue_cancel, queue_send
from medmarket.referrals.states import move
from medmarket.services import Services

log = logging.getLogger("medmarket.referrals")
MAX_RETRY_SECONDS = 15 * 60.0
POLL_BATCH = 20
POLL_EVERY = dt.timedelta(minutes=5)
FOLLOW_FOR = dt.timedelta(days=90)

_REFERRAL = """
    SELECT r.*, p.real_name, p.date_of_birth, p.sex, p.phone,
           d.full_name AS doctor_name, d.licence_number, d.department AS doctor_department,
           d.user_id AS doctor_user_id, dh.name AS doctor_hospital,
           h.adapter_type, h.adapter_config, h.name AS hospital_name
      FROM referrals r
      JOIN patients p ON p.id = r.patient_id
      JOIN doctors d ON d.id = r.doctor_id
      JOIN hospitals dh ON dh.id = d.hospital_id
      JOIN hospitals h ON h.id = r.hospital_id
     WHERE r.id = $1
"""


def _hospital(
    services: Services, row: asyncpg.Record
) -> AbstractAsyncContextManager[ConnectedHospital]:
    """The referral's target hospital, connected through its adapter."""
    return connect(services.plugins, row["hospital_id"], row["adapter_type"], row["adapter_config"])


def retry_delay(attempt: int) -> float:
    """Seconds before try ``attempt + 1``: doubling from 10 s, at most 15 minutes, jittered
    so hospitals coming back are not hit by every waiting referral at once."""
    return min(MAX_RETRY_SECONDS, 10.0 * 2.0**attempt) * random.uniform(0.8, 1.0)


async def _attachments(db: Database, referral_id: uuid.UUID) -> tuple[ReferralAttachment, ...]:
    rows = await db.fetch(
        """
        SELECT a.original_name, a.content_type, a.size_bytes, a.sha256
          FROM referral_attachments ra JOIN consultation_attachments a ON a.id = ra.attachment_id
         WHERE ra.referral_id = $1 ORDER BY a.uploaded_at, a.id
        """,
        referral_id,
    )
    return tuple(
        ReferralAttachment(
            name=r["original_name"],
            content_type=r["content_type"],
            size_bytes=r["size_bytes"],
            sha256=bytes(r["sha256"]).hex(),
        )
        for r in rows
    )


def request_of(row: asyncpg.Record, attachments: tuple[ReferralAttachment, ...]) -> ReferralRequest:
    return ReferralRequest(
        referral_id=str(row["id"]),
        department=row["department"],
        urgency=row["urgency"],
        reason=row["reason"],
        clinical_summary=row["clinical_summary"],
        emergency_advice=row["emergency_advice"],
        patient=ReferralPatient(
            full_name=row["real_name"],
            date_of_birth=row["date_of_birth"],
            sex=row["sex"],
            phone=row["phone"],
        ),
        referring_doctor=ReferringDoctor(
            full_name=row["doctor_name"],
            licence_number=row["licence_number"],
            hospital=row["doctor_hospital"],
            department=row["doctor_department"],
        ),
        requested_at=row["consented_at"],
        attachments=attachments,
    )


async def send(services: Services, message: OutboxMessage) -> None:
    """``referrals.send``: ask the hospital; a stale try (the referral moved on, or a later
    try was queued) does nothing."""
    referral_id = uuid.UUID(message.payload["referral_id"])
    attempt = int(message.payload["attempt"])
    row = await services.db.fetchrow(_REFERRAL, referral_id)
    if row is None or row["status"] != "pending" or row["send_attempts"] != attempt:
        return
    request = request_of(row, await _attachments(services.db, referral_id))
    try:
        async with _hospital(services, row) as hospital:
            decision = await hospital.accept_referral(request)
    except PluginUnavailable as exc:
        await _try_again_later(services.db, referral_id, attempt, str(exc))
        return
    async with services.db.transaction() as connection:
        locked = await _locked(connection, referral_id)
        await apply_decision(connection, locked, decision)


async def _locked(connection: Connection, referral_id: uuid.UUID) -> asyncpg.Record:
    return await fetch_one(
        connection,
        """
        SELECT r.*, d.user_id AS doctor_user_id, h.name AS hospital_name
          FROM referrals r
          JOIN doctors d ON d.id = r.doctor_id
          LEFT JOIN hospitals h ON h.id = r.hospital_id
         WHERE r.id = $1 FOR UPDATE OF r
        """,
        referral_id,
    )


async def _try_again_later(db: Database, referral_id: uuid.UUID, attempt: int, error: str) -> None:
    delay = retry_delay(attempt)
    log.warning(
        "referral %s: the hospital did not answer try %s (%s); next in %.0fs",
        referral_id,
        attempt + 1,
        error,
        delay,
    )
    async with db.transaction() as connection:
        moved = await connection.execute(
            """
            UPDATE referrals SET send_attempts = send_attempts + 1, last_send_error = $3
             WHERE id = $1 AND status = 'pending' AND send_attempts = $2
            """,
            referral_id,
            attempt,
            error[:500],
        )
        if moved == "UPDATE 1":
            await queue_send(connection, referral_id, attempt + 1, delay)


async def apply_decision(
    connection: Connection, row: asyncpg.Record, decision: ReferralDecision
) -> None:
    """What the hospital decided, applied once (``row`` locked): a decision about a referral
    that has moved on changes nothing, except that an appointment made for a referral
    cancelled meanwhile is freed."""
    status = row["status"]
    if status == "cancelled" and decision.status != "refused" and row["sent_at"] is None:
        await _remember_answer(connection, row, decision)
        await queue_cancel(connection, row["id"], 0, round_="late-answer")
        return
    if status not in ("pending", "received"):
        return
    await _remember_answer(connection, row, decision)
    params: dict[str, Any] = {"referral_id": row["id"], "hospital": row["hospital_name"]}
    if decision.status == "received":
        if status == "pending":
            await move(connection, row, "received", SYSTEM, "hospital_system")
            await notify(
                connection,
                row["account_id"],
                "referral.received",
                params,
                dedupe_key=str(row["id"]),
            )
        return
    if decision.status == "accepted":
        appointment = decision.appointment
        assert appointment is not None  # the connected hospital checks the contract
        await connection.execute(
            """
            UPDATE referrals SET appointment_at = $2, place = $3, appointment_department = $4,
                   ticket = $5, instructions = $6
             WHERE id = $1
            """,
            row["id"],
            appointment.starts_at,
            appointment.place[:300],
            appointment.department[:100],
            appointment.ticket[:100],
            appointment.instructions[:2000],
        )
        await move(
            connection,
            row,
            "accepted",
            SYSTEM,
            "hospital_system",
            detail={"ticket": appointment.ticket, "starts_at": appointment.starts_at.isoformat()},
        )
        params |= {"starts_at": appointment.starts_at.isoformat(), "place": appointment.place}
        await notify(
            connection,
            row["account_id"],
            "referral.accepted",
            params,
            dedupe_key=str(row["id"]),
            urgency="high",
        )
        await notify(
            connection,
            row["doctor_user_id"],
            "referral.accepted",
            params,
            dedupe_key=str(row["id"]),
        )
        return
    await connection.execute(
        "UPDATE referrals SET refusal_code = $2, refusal = $3 WHERE id = $1",
        row["id"],
        (decision.reason_code or "refused")[:60],
        (decision.reason or "")[:1000],
    )
    await move(
        connection,
        row,
        "refused",
        SYSTEM,
        "hospital_system",
        note=decision.reason or "",
        detail={"reason_code": decision.reason_code},
    )
    params |= {"reason": decision.reason or decision.reason_code or ""}
    await notify(
        connection,
        row["doctor_user_id"],
        "referral.refused",
        params,
        dedupe_key=str(row["id"]),
        urgency="high",
    )
    await notify(
        connection, row["account_id"], "referral.refused", params, dedupe_key=str(row["id"])
    )


async def _remember_answer(
    connection: Connection, row: asyncpg.Record, decision: ReferralDecision
) -> None:
    await connection.execute(
        """
        UPDATE referrals
           SET sent_at = coalesce(sent_at, now()), last_send_error = NULL,
               hospital_reference = coalesce($2, hospital_reference),
               decision_evidence = $3
         WHERE id = $1
        """,
        row["id"],
        decision.hospital_reference[:200] if decision.hospital_reference else None,
        {**decision.evidence, "status": decision.status},
    )


async def cancel(services: Services, message: OutboxMessage) -> None:
    """``referrals.cancel``: tell the hospital; retried like sending while it does not answer."""
    referral_id = uuid.UUID(message.payload["referral_id"])
    attempt = int(message.payload["attempt"])
    row = await services.db.fetchrow(_REFERRAL, referral_id)
    if row is None or row["status"] != "cancelled":
        return
    try:
        async with _hospital(services, row) as hospital:
            await hospital.cancel_referral(
                str(referral_id), row["hospital_reference"], row["cancel_reason"] or "cancelled"
            )
    except PluginUnavailable as exc:
        log.warning("referral %s: the hospital did not take the cancellation: %s", referral_id, exc)
        async with services.db.transaction() as connection:
            await queue_cancel(
                connection,
                referral_id,
                attempt + 1,
                retry_delay(attempt),
                round_=message.payload.get("round", "asked"),
            )


async def follow_up(services: Services) -> int:
    """The job: ask hospitals about referrals they have not finished (a decision promised,
    outcomes after accepting), each at most every ``POLL_EVERY``; returns how many it asked."""
    rows = await services.db.fetch(
        """
        UPDATE referrals SET last_polled_at = now()
         WHERE id IN (SELECT id FROM referrals
                       WHERE status IN ('received', 'accepted', 'seen', 'admitted')
                         AND (last_polled_at IS NULL OR last_polled_at < now() - $1::interval)
                         -- A hospital that never reports (its staff record outcomes here,
                         -- or nobody does) is not asked forever.
                         AND coalesce(appointment_at, consented_at) > now() - $3::interval
                       ORDER BY last_polled_at NULLS FIRST
                       LIMIT $2
                       FOR UPDATE SKIP LOCKED)
        RETURNING id
        """,
        POLL_EVERY,
        POLL_BATCH,
        FOLLOW_FOR,
    )
    for asked in rows:
        await _follow(services, asked["id"])
    return len(rows)


async def _follow(services: Services, referral_id: uuid.UUID) -> None:
    row = await services.db.fetchrow(_REFERRAL, referral_id)
    if row is None:
        return
    try:
        async with _hospital(services, row) as hospital:
            status = await hospital.referral_status(str(referral_id), row["hospital_reference"])
    except PluginUnavailable as exc:
        log.info("referral %s: no status from the hospital now: %s", referral_id, exc)
        return
    async with services.db.transaction() as connection:
        if status.decision is not None:
            await apply_decision(
                connection, await _locked(connection, referral_id), status.decision
            )
        for outcome in status.outcomes:
            await apply_outcome(
                connection,
                await _locked(connection, referral_id),
                outcome.status,
                SYSTEM,
                "hospital_system",
                at=outcome.at,
                note=outcome.note,
                event_key=outcome.event_id or f"{outcome.status}@{outcome.at.isoformat()}",
                summary=outcome.summary,
            )
