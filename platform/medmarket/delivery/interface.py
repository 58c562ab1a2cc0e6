"""What crosses between the core and a courier plugin that delivers dispensed drugs.

The core asks a courier to ``quote`` a delivery before the patient pays, to ``dispatch`` it
(create the waybill) once the pharmacy has packed the parcel, to ``track`` it while it is on
its way (polling, for couriers that do not call back or whose call-backs were lost), and to
``cancel`` it. A courier that calls back hands the core the request it received;
``read_callback`` verifies it (its signature and its age) and reads the events out of it.

The core delivers at least once: every ``dispatch`` carries the core's own ``reference``
(the same on every retry), and every event is applied once, by its ``event_id`` (or, for an
event without one, by its tracking number, status and time), however often it arrives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal, Protocol, runtime_checkable

import msgspec

from medmarket.health import HealthReport
from medmarket.payments.interface import Money


class PostalAddress(msgspec.Struct, frozen=True, kw_only=True):
    recipient: str
    phone: str  # E.164
    province: str
    city: str
    district: str | None = None
    street: str
    postal_code: str | None = None


class Parcel(msgspec.Struct, frozen=True, kw_only=True):
    weight_grams: int
    # Something in it must stay at 2–8 °C (insulin, some biologics): the courier must carry
    # it cold, or refuse to quote (raise CourierRefused).
    cold_chain: bool = False
    description: str = "medicine"
    # The declared value, for the courier's insurance.
    declared_value: Money | None = None


class DeliveryRequest(msgspec.Struct, frozen=True, kw_only=True):
    # Our own id for the delivery; couriers must treat a repeated id as the same delivery.
    reference: str
    pickup: PostalAddress
    dropoff: PostalAddress
    parcel: Parcel
    # What the recipient shows the courier at the door (a code the patient sees in the app);
    # None when the courier takes a signature or photo instead.
    handover_code: str | None = None


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    courier_id: str
    price: Money
    estimated_delivery: dt.datetime | None = None
    quote_id: str | None = None


class Dispatch(msgspec.Struct, frozen=True, kw_only=True):
    courier_id: str
    tracking_number: str
    # The courier's own printable waybill (a PDF or label page), when it has one; the
    # pharmacy's desk prints the platform's waybill page either way.
    label_url: str | None = None


# created: the courier has the waybill; picked_up: it has the parcel; in_transit: on its
# way; delivered: handed over (with proof); failed: the courier could not deliver (nobody at
# home, refused, lost); returned: the parcel is back at the pharmacy; cancelled.
DeliveryStatus = Literal[
    "created", "picked_up", "in_transit", "delivered", "failed", "returned", "cancelled"
]


class ProofOfDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """Who took the parcel, when, and how the courier knows: the recipient's handover code,
    a photo at the door, or both."""

    recipient: str
    at: dt.datetime
    code: str | None = None
    photo_url: str | None = None


class TrackingEvent(msgspec.Struct, frozen=True, kw_only=True):
    status: DeliveryStatus
    at: dt.datetime  # aware
    note: str = ""
    # The courier's own id of this event, when it has one: the core applies an event once.
    event_id: str | None = None
    # With "delivered".
    proof: ProofOfDelivery | None = None
    # With "failed": why ("recipient_absent", "refused", "lost", "damaged", ...).
    reason: str | None = None


class CallbackEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One event a courier's call-back reports, and the parcel it is about."""

    tracking_number: str
    event: TrackingEvent


class CourierRefused(Exception):
    """The courier will not take this delivery (outside its area, cold chain it cannot
    carry, too heavy): a result the patient is shown, not a fault of the courier."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CallbackRejected(Exception):
    """A call-back that is not the courier's own (no or a wrong signature) or is too old to
    trust (outside the courier's timestamp tolerance): answered 401, nothing applied."""


@runtime_checkable
class Courier(Protocol):
    id: str
    display_name: str

    async def quote(self, request: DeliveryRequest) -> Quote: ...

    async def dispatch(self, request: DeliveryRequest) -> Dispatch: ...

    async def track(self, tracking_number: str) -> list[TrackingEvent]: ...

    async def cancel(self, tracking_number: str) -> None: ...

    def read_callback(
        self, headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> list[CallbackEvent]:
        """Verify a call-back's signature and age and read its events; raise
        CallbackRejected otherwise. Pure: no network, no clock but ``now``. ``headers``
        are matched without regard to case (their names are lower-cased)."""
        ...

    async def health(self) -> HealthReport: ...
