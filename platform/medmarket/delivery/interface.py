"""What crosses between the core and a courier plugin that delivers dispensed drugs."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol, runtime_checkable

import msgspec

from medmarket.health import HealthReport
from medmarket.payments.interface import Money


class Address(msgspec.Struct, frozen=True, kw_only=True):
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    postal_code: str | None = None


class Parcel(msgspec.Struct, frozen=True, kw_only=True):
    weight_grams: int
    cold_chain: bool = False
    description: str = "medicine"


class DeliveryRequest(msgspec.Struct, frozen=True, kw_only=True):
    # Our own id for the delivery; couriers must treat a repeated id as the same delivery.
    reference: str
    pickup: Address
    dropoff: Address
    parcel: Parcel


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    courier_id: str
    price: Money
    estimated_delivery: dt.datetime | None = None
    quote_id: str | None = None


class Dispatch(msgspec.Struct, frozen=True, kw_only=True):
    courier_id: str
    tracking_number: str


DeliveryStatus = Literal["created", "picked_up", "in_transit", "delivered", "failed", "cancelled"]


class TrackingEvent(msgspec.Struct, frozen=True, kw_only=True):
    status: DeliveryStatus
    at: dt.datetime
    note: str = ""


@runtime_checkable
class Courier(Protocol):
    id: str
    display_name: str

    async def quote(self, request: DeliveryRequest) -> Quote: ...

    async def dispatch(self, request: DeliveryRequest) -> Dispatch: ...

    async def track(self, tracking_number: str) -> list[TrackingEvent]: ...

    async def cancel(self, tracking_number: str) -> None: ...

    async def health(self) -> HealthReport: ...
