"""How bookings are paid: the "booking" payment purpose.

A held booking is the payable; the payment that succeeds confirms it, in the payment's own
transaction. A payment that lands after the booking was given up (its hold ran out and the
time was taken, or it was cancelled) is refunded in full in that same transaction, so money
for a visit that will not happen is never kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.audit.service import SYSTEM
from medmarket.bookings.cancellation import refund_amount
from medmarket.bookings.listeners import BookingListener
from medmarket.db import Connection
from medmarket.errors import Conflict
from medmarket.notifications.service import notify
from medmarket.payments import refunds
from medmarket.payments.interface import Money
from medmarket.payments.purposes import Payable, PaymentView, RefundView

PURPOSE = "booking"


class HoldExpired(Conflict):
    slug, title = "hold-expired", "The time held for you has run out; choose a time again"


async def confirm_paid(
    connection: Connection,
    booking_id: uuid.UUID,
    context: AuditContext,
    listeners: Sequence[BookingListener],
) -> bool:
    """Confirm the booking a successful payment paid for, and tell ``listeners``. Returns
    False when it can no longer take place (its hold ran out and someone else took the time,
    or it was cancelled meanwhile): the payment must then be refunded in full."""
    row = await connection.fetchrow(
        "SELECT b.*, d.user_id AS doctor_user_id FROM bookings b "
        "JOIN doctors d ON d.id = b.doctor_id WHERE b.id = $1 FOR UPDATE OF b",
        booking_id,
    )
    if row is None:
        return False
    if row["status"] == "confirmed":
        return True
    if row["status"] not in ("held", "expired"):
        return False
    try:
        async with connection.transaction():
            await connection.execute(
                "UPDATE bookings SET status = 'confirmed', hold_expires_at = NULL, "
                "confirmed_at = now() WHERE id = $1",
                booking_id,
            )
    except asyncpg.ExclusionViolationError:
        await audit.record(
            connection,
            context,
            "booking.confirm_failed",
            "booking",
            booking_id,
            outcome="failed",
            detail={"reason": "paid after the hold ran out; time taken"},
        )
        return False
    await connection.execute(
        "UPDATE slots SET state = 'booked', held_until = NULL WHERE id = $1", row["slot_id"]
    )
    for listener in listeners:
        await listener.booking_confirmed(connection, booking_id, context)
    await audit.record(connection, context, "booking.confirmed", "booking", booking_id)
    when = row["during"].lower.isoformat()
    await notify(
        connection,
        row["booked_by"],
        "booking.confirmed",
        {"starts_at": when},
        dedupe_key=str(booking_id),
    )
    await notify(
        connection,
        row["doctor_user_id"],
        "booking.new",
        {"starts_at": when},
        dedupe_key=str(booking_id),
    )
    return True


class BookingPayments:
    name = PURPOSE

    def __init__(self, listeners: Sequence[BookingListener]) -> None:
        self.listeners = listeners

    async def payable(self, connection: Connection, subject_id: uuid.UUID) -> Payable | None:
        row = await connection.fetchrow(
            """
            SELECT b.status, b.hold_expires_at, b.price_fen, b.currency, b.booked_by,
                   b.doctor_id, d.hospital_id, d.full_name, lower(b.during) AS starts_at,
                   b.hold_expires_at > now() AS still_held, d.status AS doctor_status
              FROM bookings b JOIN doctors d ON d.id = b.doctor_id
             WHERE b.id = $1
            """,
            subject_id,
        )
        if row is None:
            return None
        if row["status"] != "held" or not row["still_held"]:
            raise HoldExpired(field="subject_id", status=row["status"])
        if row["doctor_status"] != "approved":
            raise Conflict(
                "this doctor is not taking visits at the moment; choose another", field="subject_id"
            )
        return Payable(
            amount=Money(row["price_fen"], row["currency"]),
            description=f"{row['full_name']} 视频问诊 {row['starts_at']:%Y-%m-%d %H:%M} UTC",
            payer_id=row["booked_by"],
            doctor_id=row["doctor_id"],
            hospital_id=row["hospital_id"],
            expires_at=row["hold_expires_at"],
        )

    async def on_succeeded(self, connection: Connection, payment: PaymentView) -> None:
        if not await confirm_paid(connection, payment.subject_id, SYSTEM, self.listeners):
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
                "booking.paid_too_late",
                {},
                dedupe_key=str(payment.subject_id),
                urgency="high",
            )

    async def on_failed(self, connection: Connection, payment: PaymentView) -> None:
        """A declined card: the hold stays until it runs out, so the payer may try again."""

    async def on_refunded(
        self, connection: Connection, payment: PaymentView, refund: RefundView
    ) -> None:
        await notify(
            connection,
            payment.payer_id,
            "booking.refunded",
            {"amount_fen": str(refund.amount.amount), "reason": refund.reason},
            dedupe_key=str(refund.id),
        )


def refund_reason(end_reason: str, refund_percent: int) -> str:
    """The payments vocabulary for why a booking's money goes back."""
    if end_reason == "patient_cancelled" and refund_percent < 100:
        return "patient_cancelled_late"
    return {"first_visit_unsuitable": "first_visit_not_suitable"}.get(end_reason, end_reason)


async def settle_ended_booking(
    connection: Connection,
    booking: asyncpg.Record,
    end_reason: str,
    refund_percent: int | None,
    context: AuditContext,
) -> None:
    """When a booking ends: stop any payment still under way, and refund the share the rules
    give back (once: the refund is keyed by the booking's end)."""
    await refunds.cancel_open_attempts(connection, PURPOSE, booking["id"], context)
    if not refund_percent:
        return
    amount = None if refund_percent == 100 else refund_amount(booking["price_fen"], refund_percent)
    if amount == 0:
        return
    await refunds.request_refund(
        connection,
        purpose=PURPOSE,
        subject_id=booking["id"],
        reason=refund_reason(end_reason, refund_percent),
        key="booking-ended",
        amount=amount,
        context=context,
    )
