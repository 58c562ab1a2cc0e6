"""The renewals job: a paid request the doctor has not answered by answer_due_at expires and
is refunded in full; one not paid by pay_by is cancelled. Each request is moved in a
transaction of its own under its row lock, with its refund, so however many workers run
this at once, and however often, a request expires (and is refunded) exactly once: the lock
and the status decide, and the refund is keyed by the expiry as well.
"""

from __future__ import annotations

import uuid

from medmarket.audit import AuditContext
from medmarket.audit.service import SYSTEM
from medmarket.db import Database
from medmarket.notifications.service import notify
from medmarket.payments import refunds
from medmarket.prescriptions.renewals import queries
from medmarket.prescriptions.renewals.service import PURPOSE
from medmarket.prescriptions.renewals.states import move

BATCH = 200


async def expire_unanswered(db: Database, context: AuditContext = SYSTEM) -> int:
    """Expire and refund what is past its answer_due_at; returns how many this call did."""
    due = await db.fetch(
        "SELECT id FROM prescription_renewals WHERE status = 'awaiting_doctor' "
        "AND answer_due_at <= now() ORDER BY answer_due_at LIMIT $1",
        BATCH,
    )
    done = 0
    for candidate in due:
        renewal_id: uuid.UUID = candidate["id"]
        async with db.transaction() as connection:
            row = await queries.fetch_one(connection, renewal_id, lock=True, skip_locked=True)
            now = await connection.fetchval("SELECT now()")
            if row is None or row["status"] != "awaiting_doctor" or row["answer_due_at"] > now:
                continue  # another worker has it, or the doctor answered meanwhile
            await move(connection, row, "expired", context)
            await refunds.request_refund(
                connection,
                purpose=PURPOSE,
                subject_id=renewal_id,
                reason="doctor_unanswered",
                key="unanswered",
                context=context,
            )
            await notify(
                connection,
                row["requested_by"],
                "prescription_renewal.expired",
                {"doctor": row["doctor_name"]},
                dedupe_key=str(renewal_id),
            )
            done += 1
    return done


async def cancel_unpaid(db: Database, context: AuditContext = SYSTEM) -> int:
    """Cancel what was not paid by its pay_by, closing any attempt still open (a payment
    that lands after all is refunded by the purpose)."""
    lapsed = await db.fetch(
        "SELECT id FROM prescription_renewals WHERE status = 'requested' AND pay_by <= now() "
        "ORDER BY pay_by LIMIT $1",
        BATCH,
    )
    done = 0
    for candidate in lapsed:
        renewal_id: uuid.UUID = candidate["id"]
        async with db.transaction() as connection:
            row = await queries.fetch_one(connection, renewal_id, lock=True, skip_locked=True)
            if row is None or row["status"] != "requested":
                continue
            await move(connection, row, "cancelled", context, detail={"by": "unpaid"})
            await refunds.cancel_open_attempts(connection, PURPOSE, renewal_id, context)
            done += 1
    return done


async def sweep(db: Database) -> dict[str, int]:
    """What the worker runs: both, reporting what they did (nothing: an empty report)."""
    report = {"expired": await expire_unanswered(db), "cancelled": await cancel_unpaid(db)}
    return {name: count for name, count in report.items() if count}
