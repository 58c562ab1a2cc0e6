"""How orders are paid: the "pharmacy_order" payment purpose.

A created order is the payable: its drugs at the pharmacy's prices plus the courier's quote,
paid by the account that ordered, before ``pay_by`` (and before the prescription expires);
the money is the pharmacy's, less the platform's commission (the ledger's pharmacy share).
The payment that succeeds puts the order on the pharmacy's desk, in the payment's own
transaction. A payment that lands after the order was given up (cancelled, or not paid in
time) is refunded in full in that same transaction. A refund that empties the payment of a
rejected, returned or cancelled order closes it as ``refunded``.
"""

from __future__ import annotations

import uuid

from medmarket.audit.service import SYSTEM
from medmarket.db import Connection
from medmarket.errors import Conflict
from medmarket.orders import queries
from medmarket.orders.notices import tell_patient, tell_pharmacy
from medmarket.orders.ordering import PURPOSE
from medmarket.orders.states import move, note
from medmarket.payments import refunds
from medmarket.payments.interface import Money
from medmarket.payments.purposes import Payable, PaymentView, RefundView
from medmarket.prescriptions.states import standing


class OrderNotPayable(Conflict):
    """The order is no longer waiting to be paid; ``status`` says what it is."""

    slug, title = "order-not-payable", "This order can no longer be paid"


class OrderPayments:
    name = PURPOSE

    async def payable(self, connection: Connection, subject_id: uuid.UUID) -> Payable | None:
        row = await connection.fetchrow(
            """
            SELECT o.status, o.pay_by, o.pay_by > now() AS payable_now, o.total_fen,
                   o.currency, o.account_id, o.pharmacy_id, ph.name_zh AS pharmacy_name,
                   p.status AS prescription_status, p.expires_at, now() AS now,
                   (SELECT n.id FROM prescriptions n WHERE n.supersedes = p.id) AS replaced_by
              FROM pharmacy_orders o
              JOIN pharmacies ph ON ph.id = o.pharmacy_id
              JOIN prescriptions p ON p.id = o.prescription_id
             WHERE o.id = $1
            """,
            subject_id,
        )
        if row is None:
            return None
        if row["status"] != "created" or not row["payable_now"]:
            raise OrderNotPayable("order again", field="subject_id", status=row["status"])
        found = standing(
            row["prescription_status"], row["expires_at"], row["replaced_by"], row["now"]
        )
        if found != "approved":
            raise OrderNotPayable(
                "the prescription can no longer be filled", field="subject_id", standing=found
            )
        return Payable(
            amount=Money(row["total_fen"], row["currency"]),
            description=f"{row['pharmacy_name']} 处方药品",
            payer_id=row["account_id"],
            pharmacy_id=row["pharmacy_id"],
            expires_at=min(row["pay_by"], row["expires_at"]),
        )

    async def on_succeeded(self, connection: Connection, payment: PaymentView) -> None:
        order = await queries.locked(connection, payment.subject_id)
        if order["status"] == "created":
            await move(
                connection, order, "paid", SYSTEM, paid=True, detail={"payment_id": str(payment.id)}
            )
            await tell_patient(connection, order, "pharmacy_order.paid", {})
            await tell_pharmacy(connection, order, "pharmacy_order.new", {})
            return
        # Paid after it was cancelled or lapsed unpaid: nobody will fill it.
        await note(connection, order["id"], order["status"], "paid too late: refunded", SYSTEM)
        await refunds.request_refund(
            connection,
            purpose=PURPOSE,
            subject_id=payment.subject_id,
            reason="late_payment",
            key="late-payment",
        )
        await tell_patient(connection, order, "pharmacy_order.paid_too_late", {}, urgency="high")

    async def on_failed(self, connection: Connection, payment: PaymentView) -> None:
        """A declined card: the order waits until pay_by, so the payer may try again."""

    async def on_refunded(
        self, connection: Connection, payment: PaymentView, refund: RefundView
    ) -> None:
        order = await queries.locked(connection, payment.subject_id)
        yuan = f"¥{refund.amount.amount / 100:.2f}"
        await note(connection, order["id"], "refund", f"{yuan} ({refund.reason})", SYSTEM)
        everything = payment.refunded.amount >= payment.amount.amount
        if everything and order["status"] in ("rejected", "returned", "cancelled"):
            await move(connection, order, "refunded", SYSTEM, detail={"refund_id": str(refund.id)})
        await tell_patient(
            connection,
            order,
            "pharmacy_order.refunded",
            {"amount_fen": str(refund.amount.amount), "reason": refund.reason},
            key=str(refund.id),
        )
