"""HTTP bodies of the payments API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from medmarket.payments.interface import ClientAction, Money
from medmarket.payments.purposes import AttemptStatus, RefundStatus

Purpose = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Reason = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class StartPayment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Pay for something: ``purpose`` is what kind of thing ("booking"), ``subject_id`` which."""

    purpose: Purpose
    subject_id: uuid.UUID


class ConfirmPayment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Charge a payment method the browser obtained from the gateway's own script (Stripe.js:
    a PaymentMethod ``pm_...`` or a card ``card_...`` from a token). Card numbers never
    reach us."""

    payment_method: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_]{3,255}$")]


class RefundPayment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(ge=1)] | None = None  # fen; None: all that is left
    reason: Reason = "operator_decision"
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class PaymentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    purpose: str
    subject_id: uuid.UUID
    status: AttemptStatus
    amount: Money
    refunded: Money
    gateway_id: str
    gateway_status: str | None
    failure_code: str | None
    failure_message: str | None
    created_at: dt.datetime
    succeeded_at: dt.datetime | None
    # Present while the payer has to act: what the page hands to the gateway's script.
    client_action: ClientAction | None = None


class RefundOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    payment_id: uuid.UUID
    amount: Money
    reason: str
    status: RefundStatus
    created_at: dt.datetime
    succeeded_at: dt.datetime | None
    failure_message: str | None


class GatewayOut(msgspec.Struct, kw_only=True):
    """The active gateway and how a page loads its client (Stripe.js, publishable key)."""

    gateway_id: str
    display_name: str
    flow: str
    params: dict[str, str]
    server_confirmation: bool


class ReconcileOut(msgspec.Struct, kw_only=True):
    examined: int = 0
    changed: int = 0
    busy: int = 0
    failed: int = 0
