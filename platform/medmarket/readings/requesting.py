"""The requesting doctor's side: send a study of a patient of one of their own visits to a
reading centre, with the patient's recorded consent; read it back with its report; call it
off before it is reported."""

from __future__ import annotations

import uuid
from pathlib import Path

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Database
from medmarket.errors import Forbidden, InvalidInput, NotFound
from medmarket.readings import queries, study_files
from medmarket.readings.schemas import CancelIn, ReadingOut, ReadingUpload
from medmarket.readings.states import SUBJECT, move, record_event

# A visit whose patient a doctor may send a study of: paid, under way or over.
VISIT_STATUSES = ("confirmed", "completed")


def _uuid(raw: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput("give an id (a UUID)", field=field) from None


class Requesting:
    def __init__(self, db: Database, data_path: Path) -> None:
        self.db = db
        self.data_path = data_path

    async def send(
        self, principal: Principal, upload: ReadingUpload, context: AuditContext
    ) -> ReadingOut:
        if not upload.consent:
            raise InvalidInput(
                "record the patient's consent to share the study with the centre",
                field="consent",
                code="required",
            )
        question = upload.question.strip()
        if not 2 <= len(question) <= 2000:
            raise InvalidInput("ask the question in 2 to 2000 characters", field="question")
        centre_id = _uuid(upload.centre_id, "centre_id")
        booking_id = _uuid(upload.booking_id, "booking_id")
        study = await study_files.accept(upload.kind, upload.files)
        async with self.db.transaction() as connection:
            visit = await connection.fetchrow(
                "SELECT b.id, b.patient_id, d.id AS doctor_id FROM bookings b "
                "JOIN doctors d ON d.id = b.doctor_id "
                "WHERE b.id = $1 AND d.user_id = $2 AND d.status = 'approved' "
                "AND b.status = ANY($3::text[])",
                booking_id,
                principal.user_id,
                list(VISIT_STATUSES),
            )
            if visit is None:
                raise NotFound("no such visit of yours", field="booking_id")
            centre = await connection.fetchrow(
                "SELECT * FROM reading_centres WHERE id = $1", centre_id
            )
            if centre is None:
                raise NotFound("no such reading centre", field="centre_id")
            if centre["kind"] != upload.kind:
                raise InvalidInput(
                    f"this centre reads {centre['kind']} studies", field="kind", code="centre-kind"
                )
            request_id = await connection.fetchval(
                """
                INSERT INTO reading_requests (centre_id, requester_id, booking_id, patient_id,
                    kind, urgency, question, consent_recorded_at, received_at, due_at)
                SELECT $1, $2, $3, $4, $5, $6, $7, now(), now(),
                       now() + make_interval(mins => CASE $6
                           WHEN 'routine' THEN c.target_routine_minutes
                           WHEN 'urgent' THEN c.target_urgent_minutes
                           ELSE c.target_emergency_minutes END)
                  FROM reading_centres c WHERE c.id = $1
                RETURNING id
                """,
                centre_id,
                visit["doctor_id"],
                booking_id,
                visit["patient_id"],
                upload.kind,
                upload.urgency,
                question,
            )
            await study_files.store(connection, self.data_path, request_id, study)
            await record_event(connection, request_id, "received", context)
            await audit.record(
                connection,
                context,
                "reading.received",
                SUBJECT,
                request_id,
                detail={"centre_id": str(centre_id), "files": len(study), "consent": True},
            )
            return await queries.reload(connection, request_id)

    async def sent_by(self, principal: Principal) -> list[ReadingOut]:
        """The studies the doctor sent, newest first: what each waits for, or its report's
        time (the report itself is on the request)."""
        rows = await self.db.fetch(
            queries.SELECT + " WHERE d.user_id = $1 ORDER BY r.received_at DESC, r.id LIMIT 200",
            principal.user_id,
        )
        return [queries.reading_out(row) for row in rows]

    async def read(self, principal: Principal, request_id: uuid.UUID) -> ReadingOut:
        async with self.db.connection() as connection:
            row = await queries.visible(connection, principal, request_id)
            return await queries.full(connection, row)

    async def cancel(
        self, principal: Principal, request_id: uuid.UUID, data: CancelIn, context: AuditContext
    ) -> ReadingOut:
        """Only the requester calls it off, and only before it is reported."""
        async with self.db.transaction() as connection:
            row = await queries.visible(connection, principal, request_id, lock=True)
            if row["requester_user_id"] != principal.user_id:
                raise Forbidden("only the requesting doctor may cancel it")
            await connection.execute(
                "UPDATE reading_claims SET released_at = now() "
                "WHERE request_id = $1 AND released_at IS NULL",
                request_id,
            )
            await connection.execute(
                "UPDATE reading_requests SET cancel_reason = $2 WHERE id = $1 "
                "AND status IN ('received', 'claimed')",
                request_id,
                data.reason,
            )
            await move(connection, row, "cancelled", context, note=data.reason)
            return await queries.reload(connection, request_id)
