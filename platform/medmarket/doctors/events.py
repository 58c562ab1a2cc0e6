"""Events the doctors domain publishes for other domains, through the outbox.

``doctor.suspended`` (payload ``DoctorSuspended``) is queued in the same transaction that
suspends a doctor, for whatever must follow: booking flags the doctor's future bookings
(``bookings/suspensions.py``).
Delivery is at least once; a consumer keys its work on ``status_change_id``.
"""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from medmarket.db import Connection
from medmarket.outbox import enqueue

DOCTOR_SUSPENDED = "doctor.suspended"


class DoctorSuspended(msgspec.Struct, frozen=True, kw_only=True):
    doctor_id: uuid.UUID
    user_id: uuid.UUID
    hospital_id: uuid.UUID
    # Why: licence_expired, licence_invalid, affiliation_ended, not_affiliated,
    # affiliation_ended_by_hospital or operator_decision.
    reason_code: str
    reason: str | None
    suspended_at: dt.datetime
    # The doctor_status_changes row; unique per suspension.
    status_change_id: int


async def announce_suspension(connection: Connection, event: DoctorSuspended) -> None:
    await enqueue(
        connection,
        DOCTOR_SUSPENDED,
        msgspec.to_builtins(event),
        dedupe_key=f"{DOCTOR_SUSPENDED}:{event.status_change_id}",
    )
