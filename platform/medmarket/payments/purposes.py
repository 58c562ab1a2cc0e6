"""How a domain takes payments: it registers a purpose ("booking", "pharmacy_order").

Payments knows nothing of bookings or orders. A domain implements ``PaymentPurpose`` and
provides it to ``PAYMENT_PURPOSES`` in its ``domain.py`` (bookings/domain.py does). Payments
then calls it **inside its own transactions**, with the connection, so the domain's change
commits or rolls back with the payment's:

- ``payable(conn, subject_id)`` when a payer starts paying: what is due now, who pays, who
  shares it. Return None for "no such thing" (the payer sees 404), raise a
  ``medmarket.errors`` problem (Conflict) for "cannot be paid now" (a hold that expired).
- ``on_succeeded(conn, payment)`` exactly once, when money was taken for the subject. This
  may come after the domain gave up on the subject (a hold expired, then a late payment
  landed): then the domain refunds it, with ``medmarket.payments.refunds.request_refund``
  in the same transaction.
- ``on_failed(conn, payment)`` once per declined attempt (the payer may try again).
- ``on_refunded(conn, payment, refund)`` once per refund that went through.

The other direction (a domain acts on payments): in the domain's own transaction call
``refunds.request_refund(conn, purpose=..., subject_id=..., reason=..., key=...)`` (full or
partial; the gateway call happens after commit, from the outbox) and
``refunds.cancel_open_attempts(conn, purpose, subject_id)`` when the subject can no longer
be paid (a cancelled booking).

Handlers must not call the gateway or other slow systems: they run while the payment row
is locked. Enqueue outbox messages for that.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Literal, Protocol, runtime_checkable

import msgspec

from medmarket.db import Connection
from medmarket.errors import InvalidInput
from medmarket.payments.interface import Money
from medmarket.services import Port, Services

AttemptStatus = Literal["pending", "open", "succeeded", "failed", "canceled"]
RefundStatus = Literal["pending", "processing", "succeeded", "failed"]


class Payable(msgspec.Struct, frozen=True, kw_only=True):
    """What a subject costs now and who is involved.

    Who receives the money, less the platform's commission: a doctor (and their hospital,
    by its agreement) for a visit or a renewal, or a pharmacy for a pharmacy order (the
    platform keeps ``MEDMARKET_PHARMACY_PLATFORM_RATE_BP`` of it). A payable names a
    pharmacy or a doctor and hospital, never both: a Payable naming both cannot be made
    (ValueError), and the database refuses such a payment too. A hospital's own pharmacy is
    named by ``pharmacy_id`` alone; its hospital's admins read its settlement statement.
    Naming nobody gives the platform everything.
    """

    amount: Money
    description: str  # shown to the payer by the gateway (e.g. "王医生 视频问诊 3月5日 9:00")
    payer_id: uuid.UUID  # the account that may pay (the patient, or the parent of a child)
    doctor_id: uuid.UUID | None = None  # receives the doctor's share
    hospital_id: uuid.UUID | None = None  # receives the hospital's share, per its agreement
    # Receives all but the platform's commission (a pharmacy order); no doctor or hospital.
    pharmacy_id: uuid.UUID | None = None
    expires_at: dt.datetime | None = None  # stop accepting payment after this (a hold's end)

    def __post_init__(self) -> None:
        if self.pharmacy_id is not None and (
            self.doctor_id is not None or self.hospital_id is not None
        ):
            raise ValueError("a payable names a pharmacy or a doctor and their hospital, not both")


class PaymentView(msgspec.Struct, frozen=True, kw_only=True):
    """A payment attempt as domains see it."""

    id: uuid.UUID
    purpose: str
    subject_id: uuid.UUID
    payer_id: uuid.UUID
    amount: Money
    status: AttemptStatus
    refunded: Money
    gateway_id: str
    external_id: str | None
    failure_code: str | None
    failure_message: str | None
    created_at: dt.datetime
    succeeded_at: dt.datetime | None


class RefundView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    payment_id: uuid.UUID
    amount: Money
    reason: str
    request_key: str
    status: RefundStatus
    created_at: dt.datetime
    succeeded_at: dt.datetime | None
    failure_message: str | None


@runtime_checkable
class PaymentPurpose(Protocol):
    name: str  # lower-case identifier stored with each payment: "booking"

    async def payable(self, connection: Connection, subject_id: uuid.UUID) -> Payable | None: ...

    async def on_succeeded(self, connection: Connection, payment: PaymentView) -> None: ...

    async def on_failed(self, connection: Connection, payment: PaymentView) -> None: ...

    async def on_refunded(
        self, connection: Connection, payment: PaymentView, refund: RefundView
    ) -> None: ...


class PurposeRegistry:
    def __init__(self, purposes: Iterable[PaymentPurpose] = ()) -> None:
        self._purposes: dict[str, PaymentPurpose] = {}
        for purpose in purposes:
            if purpose.name in self._purposes:
                raise RuntimeError(f"two payment purposes are named {purpose.name!r}")
            self._purposes[purpose.name] = purpose

    def get(self, name: str) -> PaymentPurpose:
        try:
            return self._purposes[name]
        except KeyError:
            raise InvalidInput(
                f"nothing called {name!r} can be paid for", field="purpose"
            ) from None

    def find(self, name: str) -> PaymentPurpose | None:
        return self._purposes.get(name)

    def names(self) -> list[str]:
        return sorted(self._purposes)


# Two purposes of one name stop the platform at start-up.
PAYMENT_PURPOSES: Port[PaymentPurpose] = Port("payment purposes", many=True, check=PurposeRegistry)


def installed_purposes(services: Services) -> PurposeRegistry:
    """What the domains provided can be paid for."""
    return PurposeRegistry(services.ports.collect(PAYMENT_PURPOSES))
