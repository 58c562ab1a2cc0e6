"""How renewals are paid: the "prescription_renewal" payment purpose.

A requested renewal is the payable, at the doctor's renewal price when it was asked for,
paid by the account that asked; the doctor's share is theirs as for a consultation. The
payment that succeeds puts the request before the doctor, due within
MEDMARKET_RENEWAL_ANSWER_HOURS, in the payment's own transaction. A payment that lands after
the request was given up (withdrawn, or not paid in time) is refunded in full in that same
transaction, so money for a renewal nobody will answer is never kept.
"""

from __future__ import annotations

import datetime as dt
import uuid

from medmarket import audit
from medmarket.audit.service import SYSTEM
from medmarket.db import Connection
from medmarket.errors import Conflict
from medmarket.notifications.service import notify
from medmarket.payments import refunds
from medmarket.payments.interface import Money
from medmarket.payments.purposes import Payable, PaymentView, RefundView
from medmarket.prescriptions.renewals import queries
from medmarket.prescriptions.renewals.service import PURPOSE
from medmarket.prescriptions.renewals.states import SUBJECT, move


class RenewalNotPayable(Conflict):
    """The request is no longer waiting to be paid; ``status`` says what it is."""

    slug, title = "renewal-not-payable", "This renewal request can no longer be paid"


class RenewalPayments:
    name = PURPOSE

    def __init__(self, answer_hours: int) -> None:
        self.answer_within = dt.timedelta(hours=answer_hours)

    async def payable(self, connection: Connection, subject_id: uuid.UUID) -> Payable | None:
        row = await connection.fetchrow(
            """
            SELECT r.status, r.pay_by, r.pay_by > now() AS payable_now, r.price_fen,
                   r.currency, r.requested_by, r.doctor_id, d.hospital_id, d.full_name,
                   d.status AS doctor_status
              FROM prescription_renewals r JOIN doctors d ON d.id = r.doctor_id
             WHERE r.id = $1
            """,
            subject_id,
        )
        if row is None:
            return None
        if row["status"] != "requested" or not row["payable_now"]:
            raise RenewalNotPayable(
                "ask for the renewal again", field="subject_id", status=row["status"]
            )
        if row["doctor_status"] != "approved":
            raise Conflict("this doctor is not seeing patients at the moment", field="subject_id")
        return Payable(
            amount=Money(row["price_fen"], row["currency"]),
            description=f"{row['full_name']} 复诊续方",
            payer_id=row["requested_by"],
            doctor_id=row["doctor_id"],
            hospital_id=row["hospital_id"],
            expires_at=row["pay_by"],
        )

    async def on_succeeded(self, connection: Connection, payment: PaymentView) -> None:
        row = await queries.fetch_one(connection, payment.subject_id, lock=True)
        if row is None:
            return
        if row["status"] == "requested":
            now: dt.datetime = await connection.fetchval("SELECT now()")
            due = now + self.answer_within
            await move(
                connection,
                row,
                "awaiting_doctor",
                SYSTEM,
                values={"paid_at": now, "answer_due_at": due},
                detail={"payment_id": str(payment.id), "answer_due_at": due.isoformat()},
            )
            await notify(
                connection,
                row["doctor_user_id"],
                "prescription_renewal.requested",
                {"patient": row["patient_name"], "answer_due_at": due.isoformat()},
                dedupe_key=str(row["id"]),
            )
            return
        # Paid after it was withdrawn or lapsed unpaid: nobody will answer it.
        await audit.record(
            connection,
            SYSTEM,
            "prescription_renewal.paid_too_late",
            SUBJECT,
            row["id"],
            outcome="failed",
            consultation_id=row["consultation_id"],
            detail={"payment_id": str(payment.id), "status": row["status"]},
        )
        await refunds.request_refund(
            connection,
            purpose=PURPOSE,
            subject_id=payment.subject_id,
            reason="late_payment",
            key="late-payment",
        )
        await notify(
            connection,
            payment.payer_id,
            "prescription_renewal.paid_too_late",
            {},
            dedupe_key=str(payment.subject_id),
            urgency="high",
        )

    async def on_failed(self, connection: Connection, payment: PaymentView) -> None:
        """A declined card: the request waits until pay_by, so the payer may try again."""

    async def on_refunded(
        self, connection: Connection, payment: PaymentView, refund: RefundView
    ) -> None:
        consultation_id = await connection.fetchval(
            "SELECT p.consultation_id FROM prescription_renewals r "
            "JOIN prescriptions p ON p.id = r.prescription_id WHERE r.id = $1",
            payment.subject_id,
        )
        await audit.record(
            connection,
            SYSTEM,
            "prescription_renewal.refunded",
            SUBJECT,
            payment.subject_id,
            consultation_id=consultation_id,
            detail={
                "refund_id": str(refund.id),
                "amount_fen": refund.amount.amount,
                "reason": refund.reason,
            },
        )
        await notify(
            connection,
            payment.payer_id,
            "prescription_renewal.refunded",
            {"amount_fen": str(refund.amount.amount), "reason": refund.reason},
            dedupe_key=str(refund.id),
        )
