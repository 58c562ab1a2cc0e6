"""HTTP bodies of the pharmacy-orders API (README.md beside this file)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from medmarket.orders.states import OrderStatus

Fulfilment = Literal["delivery", "pickup"]
Note = Annotated[str, msgspec.Meta(max_length=500)]
RejectReason = Literal["out_of_stock", "cannot_dispense", "other"]


class OrderIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the patient chooses: the pharmacy, delivery or self-pickup, and for delivery an
    address of their address book. The same body quotes (``/quote``) and orders."""

    pharmacy_id: uuid.UUID
    fulfilment: Fulfilment
    address_id: uuid.UUID | None = None


class LineOut(msgspec.Struct, kw_only=True):
    position: int
    drug_id: uuid.UUID
    drug_name: str
    quantity: float
    unit: str
    unit_price_fen: int
    line_fen: int
    # False once the pharmacy said it has none of it (an order that is short).
    available: bool = True
    cold_chain: bool = False


class PharmacyChoice(msgspec.Struct, kw_only=True):
    """A pharmacy that stocks every item, nearest first: its price for the drugs, whether it
    delivers to the address asked about, and whether it is the prescribing doctor's
    hospital's own."""

    pharmacy_id: uuid.UUID
    name_zh: str
    name_en: str | None
    kind: str
    province: str
    city: str
    district: str | None
    address: str
    phone: str
    nearness: str
    own_hospital: bool
    delivers: bool
    drugs_fen: int
    lines: list[LineOut]


class QuoteOut(msgspec.Struct, kw_only=True):
    """What the order costs now: the drugs at the pharmacy's prices and, for delivery, the
    courier's quote."""

    pharmacy_id: uuid.UUID
    fulfilment: Fulfilment
    lines: list[LineOut]
    drugs_fen: int
    delivery_fen: int
    total_fen: int
    currency: str
    courier_id: str | None
    estimated_delivery: dt.datetime | None
    cold_chain: bool


class EventOut(msgspec.Struct, kw_only=True):
    status: str
    at: dt.datetime
    note: str


class TrackingOut(msgspec.Struct, kw_only=True):
    courier_id: str
    tracking_number: str | None
    status: str
    # Who took the parcel, when, with the code or a photo, once delivered.
    proof: dict[str, object] | None
    failure_reason: str | None


class AddressOut(msgspec.Struct, kw_only=True):
    recipient: str
    phone: str
    province: str
    city: str
    district: str | None
    street: str
    postal_code: str | None


class OrderOut(msgspec.Struct, kw_only=True):
    """An order and where it stands. Pay for a ``created`` one with ``POST /api/payments``
    (purpose ``pharmacy_order``, subject its id) before ``pay_by``."""

    id: uuid.UUID
    prescription_id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    pharmacy_id: uuid.UUID
    pharmacy_name: str
    pharmacy_address: str
    pharmacy_phone: str
    fulfilment: Fulfilment
    dropoff: AddressOut | None
    status: OrderStatus
    status_changed_at: dt.datetime
    created_at: dt.datetime
    pay_by: dt.datetime
    paid_at: dt.datetime | None
    lines: list[LineOut]
    drugs_fen: int
    delivery_fen: int
    total_fen: int
    # What is refunded (a short order's missing items, or everything).
    refunded_fen: int
    currency: str
    cold_chain: bool
    reason: str | None
    # The patient's code for the counter or the door; the pharmacy never sees it.
    handover_code: str | None
    tracking: TrackingOut | None
    # Everything that happened, oldest first, in UTC (pages show it in the reader's zone).
    events: list[EventOut]


class ShortIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The pharmacy has some items but not all: the positions it has none of."""

    unavailable: Annotated[
        list[Annotated[int, msgspec.Meta(ge=0, le=19)]], msgspec.Meta(min_length=1, max_length=20)
    ]
    note: Note = ""


class RejectIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: RejectReason
    note: Note = ""


class CollectIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The code the patient shows at the counter."""

    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]


class WaybillOut(msgspec.Struct, kw_only=True):
    """What the pharmacy prints on the parcel."""

    order_id: uuid.UUID
    courier_id: str
    tracking_number: str | None
    label_url: str | None
    cold_chain: bool
    sender: AddressOut
    recipient: AddressOut
    items: int
