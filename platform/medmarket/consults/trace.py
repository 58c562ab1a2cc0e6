"""A consultation's full trace, for operators answering the regulator: who did what when in
it (lifecycle, room tokens, joins and leaves, invitations, notes, chat, files), its booking
and its payments, with the record itself (note versions, messages, files). Reading a trace
is itself audited."""

from __future__ import annotations

import uuid

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.audit.service import AuditEvent
from medmarket.bookings.queries import BOOKING_SELECT, booking_out
from medmarket.consults.access import colleagues, consultation_out, for_operator
from medmarket.consults.chat import MESSAGE_SELECT, attachment_out, message_out
from medmarket.consults.notes import note_versions
from medmarket.consults.schemas import ConsultationTrace, PaymentSummary
from medmarket.db import Database, fetch_one

_EVENTS = """
    SELECT id, occurred_at, actor_id, actor_role, action, subject_type, subject_id,
           consultation_id, outcome, host(ip) AS ip, request_id, detail
      FROM audit_events
     WHERE consultation_id = $1
        OR (subject_type = 'booking' AND subject_id = $2)
        OR (subject_type = 'payment' AND subject_id = ANY($3::text[]))
     ORDER BY id
"""


async def consultation_trace(
    db: Database, consultation_id: uuid.UUID, context: AuditContext
) -> ConsultationTrace:
    # One snapshot: every part of the trace shows the same moment.
    async with (
        db.connection() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        row = await for_operator(connection, consultation_id)
        invited = await colleagues(connection, consultation_id)
        booking = await fetch_one(
            connection, BOOKING_SELECT + " WHERE b.id = $1", row["booking_id"]
        )
        payments = await connection.fetch(
            """
            SELECT id, status, amount, currency, refunded_amount, created_at, succeeded_at
              FROM payments WHERE subject_id = $1 ORDER BY created_at
            """,
            row["booking_id"],
        )
        events = await connection.fetch(
            _EVENTS,
            consultation_id,
            str(row["booking_id"]),
            [str(p["id"]) for p in payments],
        )
        notes = await note_versions(connection, consultation_id)
        messages = await connection.fetch(
            MESSAGE_SELECT + " WHERE m.consultation_id = $1 ORDER BY m.seq", consultation_id
        )
        files = await connection.fetch(
            "SELECT * FROM consultation_attachments WHERE consultation_id = $1 "
            "ORDER BY uploaded_at, id",
            consultation_id,
        )
    async with db.transaction() as connection:
        await audit.record(
            connection,
            context,
            "consultation.trace_read",
            "consultation",
            consultation_id,
            consultation_id=consultation_id,
        )
    return ConsultationTrace(
        consultation=consultation_out(row, invited),
        booking=booking_out(booking),
        events=[AuditEvent(**dict(e)) for e in events],
        colleagues=invited,
        notes=notes,
        messages=[message_out(m) for m in messages],
        attachments=[attachment_out(f) for f in files],
        payments=[PaymentSummary(**dict(p)) for p in payments],
    )
