"""Renewing a prescription without a call (复诊续方). The patient asks the doctor who wrote a
chronic follow-up prescription for them to renew it (``eligibility`` says when they may),
pays the doctor's renewal price (``payments``), and the doctor answers before
answer_due_at: renews it, through the same checks and the same issuing as any prescription
(``Prescribing.renew``), or asks to see the patient, which refunds them. Unanswered, it
expires and is refunded (``expiry``). Each step moves the request through its state machine
(``states``) with its audit event and the notification it causes, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.errors import Conflict, NotFound
from medmarket.notifications.service import notify
from medmarket.patients.service import health_record
from medmarket.payments import refunds
from medmarket.prescriptions import records
from medmarket.prescriptions.document import read_document
from medmarket.prescriptions.findings import PrescriptionRefused
from medmarket.prescriptions.renewals import queries
from medmarket.prescriptions.renewals.eligibility import Candidate, NotRenewable, require_renewable
from medmarket.prescriptions.renewals.schemas import ApprovalIn, RenewalIn, RenewalOut
from medmarket.prescriptions.renewals.states import SUBJECT, WrongRenewalStatus, move
from medmarket.prescriptions.schemas import HealthSummaryOut, ItemIn, PrescriptionIn
from medmarket.prescriptions.service import Prescribing, health_summary_out
from medmarket.services import Services

PURPOSE = "prescription_renewal"  # what the payments domain calls paying for one

# The earlier prescription as its patient's account ($2) asks about it, with its doctor's
# standing and renewal price.
_EARLIER = """
    SELECT p.id, p.status, p.chronic_follow_up, p.patient_id, p.doctor_id, p.consultation_id,
           (SELECT n.id FROM prescriptions n WHERE n.supersedes = p.id) AS replaced_by,
           d.status AS doctor_status, o.price_fen, o.currency, coalesce(o.active, false) AS offered
      FROM prescriptions p
      JOIN patients pt ON pt.id = p.patient_id
      JOIN doctors d ON d.id = p.doctor_id
      LEFT JOIN consult_offerings o ON o.doctor_id = p.doctor_id AND o.kind = 'renewal'
     WHERE p.id = $1 AND pt.account_id = $2 AND pt.removed_at IS NULL
"""


class RenewalAlreadyOpen(Conflict):
    """A request for this prescription is unpaid or awaits the doctor: ``renewal_id``."""

    slug, title = "renewal-already-open", "A renewal of this prescription is already under way"


class AnswerOverdue(Conflict):
    """The doctor's time to answer has passed: the request expires and is refunded."""

    slug, title = "renewal-answer-overdue", "The time to answer this renewal request has passed"


def renewal_request(earlier: bytes, approval: ApprovalIn) -> PrescriptionIn:
    """The prescription a renewal writes: the earlier one's diagnosis and items unless the
    doctor edited them, as the follow-up of a chronic disease."""
    content = read_document(earlier)
    items = approval.items or [
        ItemIn(
            drug_id=item.drug.id,
            dose=item.dose,
            dose_unit=item.dose_unit,
            route=item.route,
            frequency=item.frequency,
            duration_days=item.duration_days,
            quantity=item.quantity,
            quantity_unit=item.quantity_unit,
            instructions=item.instructions,
        )
        for item in content.items
    ]
    return PrescriptionIn(
        diagnosis=approval.diagnosis or content.diagnosis,
        items=items,
        chronic_follow_up=True,
        valid_days=approval.valid_days,
        reasons=approval.reasons,
    )


class Renewals:
    def __init__(self, services: Services, prescribing: Prescribing) -> None:
        self.db: Database = services.db
        self.settings = services.settings
        self.prescribing = prescribing
        self.pay_within = dt.timedelta(seconds=services.settings.payment_attempt_ttl_seconds)

    # -- the patient ---------------------------------------------------------------------------
    async def request(
        self,
        principal: Principal,
        prescription_id: uuid.UUID,
        body: RenewalIn,
        context: AuditContext,
    ) -> RenewalOut:
        """Ask the doctor to renew the patient's own prescription; it is then to be paid
        (by ``pay_by``) before the doctor sees it."""
        async with self.db.transaction() as connection:
            earlier = await connection.fetchrow(_EARLIER, prescription_id, principal.user_id)
            if earlier is None:
                raise NotFound(records.NOT_FOUND)
            now: dt.datetime = await connection.fetchval("SELECT now()")
            record = await health_record(connection, earlier["patient_id"])
            candidate = Candidate(
                status=earlier["status"],
                replaced_by=earlier["replaced_by"],
                chronic_follow_up=earlier["chronic_follow_up"],
                followed_up_since=await queries.followed_up_since(connection, prescription_id),
                chronic_conditions=record.chronic_conditions,
                doctor_status=earlier["doctor_status"],
                renewals_offered=earlier["offered"],
            )
            require_renewable(
                candidate, now, self.settings.renewal_window_days, self.settings.calendar
            )
            await self._refuse_a_second(connection, prescription_id)
            try:
                async with connection.transaction():
                    renewal_id: uuid.UUID = await connection.fetchval(
                        """
                        INSERT INTO prescription_renewals (prescription_id, patient_id,
                               doctor_id, requested_by, note, price_fen, currency, pay_by)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                        RETURNING id
                        """,
                        prescription_id,
                        earlier["patient_id"],
                        earlier["doctor_id"],
                        principal.user_id,
                        body.note.strip(),
                        earlier["price_fen"],
                        earlier["currency"],
                        now + self.pay_within,
                    )
            except asyncpg.UniqueViolationError:  # asked twice at once: the index decided
                await self._refuse_a_second(connection, prescription_id)
                raise
            await audit.record(
                connection,
                context,
                "prescription_renewal.requested",
                SUBJECT,
                renewal_id,
                consultation_id=earlier["consultation_id"],
                detail={
                    "prescription_id": str(prescription_id),
                    "price_fen": earlier["price_fen"],
                },
            )
            return queries.renewal_out(await self._row(connection, renewal_id))

    async def cancel(
        self, principal: Principal, renewal_id: uuid.UUID, context: AuditContext
    ) -> RenewalOut:
        """Withdraw a request that is not paid yet (a payment landing later is refunded)."""
        async with self.db.transaction() as connection:
            row = await queries.visible(connection, renewal_id, principal.user_id, lock=True)
            if row["requested_by"] != principal.user_id:
                raise NotFound(queries.NOT_FOUND)
            await move(connection, row, "cancelled", context, detail={"by": "patient"})
            await refunds.cancel_open_attempts(connection, PURPOSE, renewal_id, context)
            return queries.renewal_out(await self._row(connection, renewal_id))

    async def read(self, principal: Principal, renewal_id: uuid.UUID) -> RenewalOut:
        return queries.renewal_out(
            await queries.visible(self.db.pool, renewal_id, principal.user_id)
        )

    async def mine(self, principal: Principal) -> list[RenewalOut]:
        """The account's requests, newest first."""
        rows = await self.db.fetch(
            queries.SELECT + " WHERE r.requested_by = $1 ORDER BY r.requested_at DESC, r.id",
            principal.user_id,
        )
        return [queries.renewal_out(row) for row in rows]

    # -- the doctor ----------------------------------------------------------------------------
    async def awaiting(self, principal: Principal) -> list[RenewalOut]:
        """The paid requests the doctor has still to answer, the one due first first."""
        rows = await self.db.fetch(
            queries.SELECT + " WHERE d.user_id = $1 AND r.status = 'awaiting_doctor' "
            "ORDER BY r.answer_due_at, r.id",
            principal.user_id,
        )
        return [queries.renewal_out(row) for row in rows]

    async def approve(
        self,
        principal: Principal,
        renewal_id: uuid.UUID,
        approval: ApprovalIn,
        context: AuditContext,
    ) -> RenewalOut:
        """Renew: a new prescription, written as any other (an error of the rules refuses
        it, a warning needs a reason), that renews the earlier one."""
        consultation_id: uuid.UUID | None = None
        try:
            async with self.db.transaction() as connection:
                row = await self._to_answer(connection, principal, renewal_id)
                consultation_id = row["consultation_id"]
                earlier = await records.fetch_one(connection, row["prescription_id"])
                if earlier["status"] in ("voided", "rejected"):
                    raise NotRenewable(
                        f"the prescription was {earlier['status']} meanwhile: ask for a visit",
                        field="prescription_id",
                        code=earlier["status"],
                    )
                issued = await self.prescribing.renew(
                    connection,
                    principal,
                    row["prescription_id"],
                    renewal_request(earlier["document"], approval),
                    context,
                )
                await move(
                    connection,
                    row,
                    "renewed",
                    context,
                    values={"renewal_id": issued.id},
                    detail={"renewal_id": str(issued.id)},
                )
                await notify(
                    connection,
                    row["requested_by"],
                    "prescription_renewal.renewed",
                    {"prescription_id": issued.id, "doctor": row["doctor_name"]},
                    dedupe_key=str(renewal_id),
                )
                return queries.renewal_out(await self._row(connection, renewal_id))
        except PrescriptionRefused as refusal:
            if consultation_id is not None:
                await self.prescribing.record_refusal(consultation_id, refusal, context)
            raise

    async def ask_for_visit(
        self, principal: Principal, renewal_id: uuid.UUID, message: str, context: AuditContext
    ) -> RenewalOut:
        """Decline to renew without seeing the patient, telling them why; they are refunded
        in full (the price is for a renewal: README.md)."""
        async with self.db.transaction() as connection:
            row = await self._to_answer(connection, principal, renewal_id)
            await move(
                connection,
                row,
                "visit_requested",
                context,
                values={"visit_message": message.strip()},
            )
            await refunds.request_refund(
                connection,
                purpose=PURPOSE,
                subject_id=renewal_id,
                reason="visit_requested",
                key="visit-requested",
                context=context,
            )
            await notify(
                connection,
                row["requested_by"],
                "prescription_renewal.visit_requested",
                {"doctor": row["doctor_name"], "message": message.strip()},
                dedupe_key=str(renewal_id),
                urgency="high",
            )
            return queries.renewal_out(await self._row(connection, renewal_id))

    async def health_summary(
        self, principal: Principal, renewal_id: uuid.UUID, context: AuditContext
    ) -> HealthSummaryOut:
        """The patient's record as prescribing reads it, for the doctor while they may answer
        the request (``prescribing_until`` is answer_due_at); every read is audited."""
        async with self.db.transaction() as connection:
            row = await self._to_answer(connection, principal, renewal_id)
            now: dt.datetime = await connection.fetchval("SELECT now()")
            record = await health_record(connection, row["patient_id"])
            await audit.record(
                connection,
                context,
                "patient.health_summary_read",
                "patient",
                record.patient_id,
                consultation_id=row["consultation_id"],
                detail={"renewal_id": str(renewal_id)},
            )
        return health_summary_out(
            record, now.astimezone(self.settings.calendar).date(), row["answer_due_at"]
        )

    # -- the steps -----------------------------------------------------------------------------
    async def _row(self, connection: Connection, renewal_id: uuid.UUID) -> asyncpg.Record:
        row = await queries.fetch_one(connection, renewal_id)
        if row is None:
            raise NotFound(queries.NOT_FOUND)
        return row

    async def _refuse_a_second(self, connection: Connection, prescription_id: uuid.UUID) -> None:
        open_id = await connection.fetchval(
            "SELECT id FROM prescription_renewals WHERE prescription_id = $1 "
            "AND status IN ('requested', 'awaiting_doctor')",
            prescription_id,
        )
        if open_id is not None:
            raise RenewalAlreadyOpen(
                "a renewal of this prescription is already asked for",
                field="prescription_id",
                code="already-open",
                renewal_id=str(open_id),
            )

    async def _to_answer(
        self, connection: Connection, principal: Principal, renewal_id: uuid.UUID
    ) -> asyncpg.Record:
        """The request, locked, if the caller is its doctor and may answer it now. Anyone
        else, another doctor included, is told it does not exist."""
        row = await queries.visible(connection, renewal_id, principal.user_id, lock=True)
        if row["doctor_user_id"] != principal.user_id:
            raise NotFound(queries.NOT_FOUND)
        if row["status"] != "awaiting_doctor":
            raise WrongRenewalStatus(
                f"the renewal request is {row['status']}: there is nothing to answer",
                status_now=row["status"],
            )
        now: dt.datetime = await connection.fetchval("SELECT now()")
        if now >= row["answer_due_at"]:
            raise AnswerOverdue(
                "the time to answer has passed: the patient is refunded",
                field="answer_due_at",
                code="overdue",
                answer_due_at=row["answer_due_at"].isoformat(),
            )
        return row
