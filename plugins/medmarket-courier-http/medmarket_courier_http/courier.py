"""The ``courier-http`` courier: the core's delivery contract over the courier's open API.

Dispatch sends the core's ``reference`` as both ``out_order_no`` and the ``Idempotency-Key``,
so a retried dispatch is answered with the waybill the first one made. The courier's
statuses are its own words (``SIGNED`` is 签收, handed over); they are mapped to the core's,
and an event whose status this version does not know is left out (logged) rather than
guessed. Every event carries the courier's ``event_id``, by which the core applies it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Literal

import msgspec

from medmarket import (
    CallbackEvent,
    CallbackRejected,
    CourierRefused,
    DeliveryRequest,
    Dispatch,
    HealthReport,
    Money,
    OutboundPolicy,
    PostalAddress,
    ProofOfDelivery,
    Quote,
    Settings,
    TrackingEvent,
)
from medmarket_courier_http.api import (
    CancelRequest,
    CourierApi,
    CourierHttpError,
    CourierRequestError,
    Notification,
    QuoteRequest,
    WaybillRequest,
    WireAddress,
    WireCargo,
    WireEvent,
    aware,
)
from medmarket_courier_http.config import CourierHttpConfig

log = logging.getLogger("medmarket.courier.http")

TIMESTAMP_HEADER = "x-courier-timestamp"
SIGNATURE_HEADER = "x-courier-signature"

# The core's statuses (``medmarket.TrackingEvent.status``).
Status = Literal[
    "created", "picked_up", "in_transit", "delivered", "failed", "returned", "cancelled"
]
# The courier's statuses, in its own words, as the core's.
STATUSES: dict[str, Status] = {
    "ACCEPTED": "created",
    "COLLECTED": "picked_up",
    "IN_TRANSIT": "in_transit",
    "OUT_FOR_DELIVERY": "in_transit",
    "SIGNED": "delivered",
    "DELIVERY_FAILED": "failed",
    "RETURNED": "returned",
    "CANCELLED": "cancelled",
}

_notification = msgspec.json.Decoder(Notification)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256, in hex, of ``"{timestamp}.{raw body}"`` with the shared secret."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _address(place: PostalAddress) -> WireAddress:
    return WireAddress(
        name=place.recipient,
        mobile=place.phone,
        province=place.province,
        city=place.city,
        district=place.district,
        address=place.street,
        postcode=place.postal_code,
    )


def _cargo(request: DeliveryRequest) -> WireCargo:
    parcel = request.parcel
    declared = parcel.declared_value
    if declared is not None and declared.currency != "CNY":
        raise CourierRefused("declared_value_currency")  # the courier insures in fen only
    return WireCargo(
        weight_g=parcel.weight_grams,
        cold_chain=parcel.cold_chain,
        description=parcel.description,
        declared_value_fen=None if declared is None else declared.amount,
    )


def tracking_event(event: WireEvent) -> TrackingEvent | None:
    """The courier's event as the core's, or None for a status this version does not know."""
    status = STATUSES.get(event.status)
    if status is None:
        log.warning("courier event %s: unknown status %r left out", event.event_id, event.status)
        return None
    proof = None
    if event.proof is not None:
        proof = ProofOfDelivery(
            recipient=event.proof.signer,
            at=aware(event.proof.signed_at),
            code=event.proof.handover_code,
            photo_url=event.proof.photo_url,
        )
    reason = None
    if status == "failed":
        reason = (event.failure_code or "unknown").lower()
    return TrackingEvent(
        status=status,
        at=aware(event.occurred_at),
        note=event.description,
        event_id=event.event_id,
        proof=proof,
        reason=reason,
    )


class HttpCourier:
    def __init__(self, config: CourierHttpConfig, settings: Settings) -> None:
        self.config = config
        self.id = config.id
        self.display_name = config.display_name
        self.timeout_seconds = config.timeout_seconds or settings.plugin_timeout_seconds
        self.api = CourierApi(
            config.base_url,
            config.api_key,
            timeout_seconds=self.timeout_seconds,
            outbound=OutboundPolicy.from_settings(settings),
        )
        # The route the core serves for this courier's call-backs; none without a secret,
        # since call-backs that cannot be verified could only be refused.
        self.notify_url = (
            f"{settings.base_url.rstrip('/')}/api/couriers/{config.id}/callbacks"
            if config.callback_secret
            else None
        )

    async def quote(self, request: DeliveryRequest) -> Quote:
        answer = await self.api.quote(
            QuoteRequest(
                out_order_no=request.reference,
                sender=_address(request.pickup),
                receiver=_address(request.dropoff),
                cargo=_cargo(request),
            )
        )
        estimated = answer.estimated_delivery_at
        return Quote(
            courier_id=self.id,
            price=Money(answer.price_fen, answer.currency),
            estimated_delivery=None if estimated is None else aware(estimated),
            quote_id=answer.quote_id,
        )

    async def dispatch(self, request: DeliveryRequest) -> Dispatch:
        answer = await self.api.create_waybill(
            WaybillRequest(
                out_order_no=request.reference,
                sender=_address(request.pickup),
                receiver=_address(request.dropoff),
                cargo=_cargo(request),
                handover_code=request.handover_code,
                notify_url=self.notify_url,
            )
        )
        return Dispatch(
            courier_id=self.id, tracking_number=answer.waybill_no, label_url=answer.label_url
        )

    async def track(self, tracking_number: str) -> list[TrackingEvent]:
        answer = await self.api.events(tracking_number)
        events = (tracking_event(event) for event in answer.events)
        return sorted((e for e in events if e is not None), key=lambda event: event.at)

    async def cancel(self, tracking_number: str) -> None:
        try:
            await self.api.cancel(tracking_number, CancelRequest())
        except CourierRequestError as exc:
            if exc.error != "ALREADY_CANCELLED":
                raise

    def read_callback(
        self, headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> list[CallbackEvent]:
        secret = self.config.callback_secret
        if not secret:
            raise CallbackRejected("no MEDMARKET_COURIER_HTTP_CALLBACK_SECRET to verify with")
        lower = {name.lower(): value for name, value in headers.items()}
        timestamp = lower.get(TIMESTAMP_HEADER, "").strip()
        given = lower.get(SIGNATURE_HEADER, "").strip().lower()
        if not timestamp or not given:
            raise CallbackRejected("no signature or no timestamp")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise CallbackRejected("the timestamp is not Unix seconds")
        if not hmac.compare_digest(given.encode(), signature(secret, timestamp, body).encode()):
            raise CallbackRejected("the signature does not match")
        # Checked after the signature, which covers the timestamp: a forger cannot move it.
        age = now.timestamp() - int(timestamp)
        if abs(age) > self.config.callback_tolerance_seconds:
            raise CallbackRejected(f"the timestamp is {age:+.0f} s from now")
        try:
            notification = _notification.decode(body)
        except msgspec.DecodeError as exc:
            raise CallbackRejected(f"a signed call-back that is not one: {exc}") from exc
        return [
            CallbackEvent(tracking_number=notification.waybill_no, event=event)
            for event in map(tracking_event, notification.events)
            if event is not None
        ]

    async def health(self) -> HealthReport:
        try:
            await self.api.ping()
        except (CourierHttpError, CourierRefused) as exc:
            return HealthReport(healthy=False, detail=str(exc))
        return HealthReport(healthy=True, detail=f"{self.display_name} at {self.config.base_url}")
