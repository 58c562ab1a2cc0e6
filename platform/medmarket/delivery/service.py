"""Deliveries by courier plugins: quoting, dispatching from the outbox, and every event a
courier reports, by call-back or by polling, applied once.

A domain that sends something (orders) calls ``request_delivery`` in its own transaction:
the delivery is committed as ``requested`` with a reference of its own and an outbox message
``delivery.dispatch``. ``Deliveries.dispatch`` (the outbox handler, and the desk right after
its commit, so the waybill is there at once when the courier answers) asks the courier for
the waybill with that reference and records it; a crash between the courier's answer and
our commit is healed by asking again, which a courier answers with the same waybill (the
hook's contract). Events are keyed by the courier's event id (or by status and time) in
``delivery_events``: a call-back that arrives twice, or an event that both a call-back and
the polling job bring, changes the delivery and is heard by its purpose once.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import asyncpg
import msgspec

from medmarket import audit, outbox
from medmarket.audit import AuditContext
from medmarket.audit.service import SYSTEM
from medmarket.db import Connection, Database, fetch_one
from medmarket.delivery.interface import (
    CallbackRejected,
    Courier,
    CourierRefused,
    DeliveryRequest,
    Parcel,
    PostalAddress,
    Quote,
    TrackingEvent,
)
from medmarket.delivery.listeners import DELIVERY_LISTENERS, DeliveryListener, DeliveryView
from medmarket.delivery.states import ON_THEIR_WAY, may_move
from medmarket.errors import (
    Conflict,
    MalformedRequest,
    NotAuthenticated,
    NotFound,
    ServiceUnavailable,
)
from medmarket.failpoints import Failpoints
from medmarket.outbox.worker import OutboxMessage
from medmarket.plugin_manager import PluginUnavailable
from medmarket.services import Services

log = logging.getLogger("medmarket.delivery")

DISPATCH_TOPIC = "delivery.dispatch"
CANCEL_TOPIC = "delivery.cancel"
# How long a parcel on its way goes unasked before the polling job asks its courier.
POLL_AFTER = dt.timedelta(minutes=5)
POLL_BATCH = 50
Source = Literal["dispatch", "callback", "poll", "core"]


class NoCourier(Conflict):
    """No installed courier will carry this: ``reasons`` says what each answered."""

    slug, title = "no-courier", "No courier delivers this"


class CallbackOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a call-back did: events applied, events seen before, and events of parcels we
    do not know (answered 200 all the same, so the courier does not retry them forever)."""

    applied: int
    duplicates: int
    unknown: int


def new_reference() -> str:
    return f"dlv_{secrets.token_hex(16)}"


def event_key(event: TrackingEvent) -> str:
    """How an event is known again: the courier's id for it, else its status and time."""
    if event.event_id:
        return f"id:{event.event_id}"[:200]
    return f"{event.status}@{event.at.astimezone(dt.UTC).isoformat()}"


def view(row: asyncpg.Record) -> DeliveryView:
    return DeliveryView(
        id=row["id"],
        reference=row["reference"],
        courier_id=row["courier_id"],
        purpose=row["purpose"],
        subject_id=row["subject_id"],
        status=row["status"],
        tracking_number=row["tracking_number"],
        label_url=row["label_url"],
        dispatched_at=row["dispatched_at"],
        proof=row["proof"],
        failure_reason=row["failure_reason"],
    )


async def request_delivery(
    connection: Connection,
    *,
    courier_id: str,
    purpose: str,
    subject_id: uuid.UUID,
    pickup: PostalAddress,
    dropoff: PostalAddress,
    parcel: Parcel,
    handover_code: str | None,
    context: AuditContext,
) -> DeliveryView:
    """Commit a delivery (in the caller's transaction) and queue its dispatch."""
    request = DeliveryRequest(
        reference=new_reference(),
        pickup=pickup,
        dropoff=dropoff,
        parcel=parcel,
        handover_code=handover_code,
    )
    row = await connection.fetchrow(
        """
        INSERT INTO deliveries (reference, courier_id, purpose, subject_id, request, cold_chain)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING *
        """,
        request.reference,
        courier_id,
        purpose,
        subject_id,
        msgspec.to_builtins(request),
        parcel.cold_chain,
    )
    assert row is not None
    await outbox.enqueue(
        connection,
        DISPATCH_TOPIC,
        {"delivery_id": str(row["id"])},
        dedupe_key=f"{DISPATCH_TOPIC}:{row['id']}",
    )
    await audit.record(
        connection,
        context,
        "delivery.requested",
        "delivery",
        row["id"],
        detail={
            "courier_id": courier_id,
            "purpose": purpose,
            "subject_id": str(subject_id),
            "reference": request.reference,
            "cold_chain": parcel.cold_chain,
        },
    )
    return view(row)


class Deliveries:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.db: Database = services.db
        self.plugins = services.plugins
        self.failpoints = Failpoints(services.settings)

    def _listener(self, purpose: str) -> DeliveryListener | None:
        for listener in self.services.ports.collect(DELIVERY_LISTENERS):
            if listener.purpose == purpose:
                return listener
        return None

    def couriers(self) -> list[tuple[str, Courier]]:
        return sorted(self.plugins.couriers, key=lambda item: item[0])

    # -- quoting -------------------------------------------------------------------------------
    async def quote(self, pickup: PostalAddress, dropoff: PostalAddress, parcel: Parcel) -> Quote:
        """The cheapest quote of the installed couriers that will carry the parcel. Raises
        NoCourier (409, with each courier's answer) when none will, and ServiceUnavailable
        when none answered."""
        request = DeliveryRequest(
            reference=f"quote_{secrets.token_hex(16)}",
            pickup=pickup,
            dropoff=dropoff,
            parcel=parcel,
        )
        quotes: list[Quote] = []
        refusals: dict[str, str] = {}
        unavailable: dict[str, str] = {}
        for courier_id, courier in self.couriers():
            # A refusal is the courier's answer, not its failure: it does not trip the breaker.
            async def ask(courier: Courier = courier) -> Quote | CourierRefused:
                try:
                    return await courier.quote(request)
                except CourierRefused as refused:
                    return refused

            try:
                answer = await self.plugins.guard(
                    "delivery quote", self.plugins.couriers.key(courier_id), ask
                )
            except PluginUnavailable as exc:
                unavailable[courier_id] = str(exc)
                continue
            if isinstance(answer, CourierRefused):
                refusals[courier_id] = answer.reason
            else:
                quotes.append(answer)
        if quotes:
            return min(quotes, key=lambda quote: (quote.price.amount, quote.courier_id))
        if unavailable and not refusals:
            raise ServiceUnavailable(
                "the couriers are not answering; try again shortly", couriers=unavailable
            )
        raise NoCourier(
            "no courier delivers this to that address"
            + (" (it must be kept cold)" if parcel.cold_chain else ""),
            field="address_id",
            code="no-courier",
            reasons=refusals,
        )

    # -- dispatching ---------------------------------------------------------------------------
    async def dispatch(self, delivery_id: uuid.UUID) -> DeliveryView | None:
        """Ask the courier for the waybill of a requested delivery and record it; a delivery
        dispatched already (or cancelled) is left as it is. Raises PluginUnavailable when the
        courier does not answer (the outbox tries again)."""
        row = await self.db.fetchrow("SELECT * FROM deliveries WHERE id = $1", delivery_id)
        if row is None or row["status"] != "requested":
            return None if row is None else view(row)
        request = msgspec.convert(row["request"], DeliveryRequest)
        courier = self.plugins.couriers.get(row["courier_id"])
        dispatched = await self.plugins.guard(
            "delivery dispatch",
            self.plugins.couriers.key(row["courier_id"]),
            lambda: courier.dispatch(request),
        )
        self.failpoints.hit("delivery.dispatch.after_courier_call")
        async with self.db.transaction() as connection:
            locked = await connection.fetchrow(
                "SELECT * FROM deliveries WHERE id = $1 FOR UPDATE", delivery_id
            )
            assert locked is not None
            if locked["status"] != "requested":
                return view(locked)
            updated = await connection.fetchrow(
                """
                UPDATE deliveries
                   SET status = 'created', tracking_number = $2, label_url = $3,
                       dispatched_at = now(), status_changed_at = now()
                 WHERE id = $1
                RETURNING *
                """,
                delivery_id,
                dispatched.tracking_number,
                dispatched.label_url,
            )
            assert updated is not None
            event = TrackingEvent(
                status="created",
                at=await connection.fetchval("SELECT now()"),
                note="waybill " + dispatched.tracking_number,
                event_id=f"dispatch:{row['reference']}",
            )
            await self._record_event(connection, updated, event, "dispatch")
            await audit.record(
                connection,
                SYSTEM,
                "delivery.dispatched",
                "delivery",
                delivery_id,
                detail={
                    "courier_id": row["courier_id"],
                    "tracking_number": dispatched.tracking_number,
                    "reference": row["reference"],
                },
            )
            delivery = view(updated)
            listener = self._listener(delivery.purpose)
            if listener is not None:
                await listener.delivery_moved(connection, delivery, event, True)
            return delivery

    async def try_dispatch(self, delivery_id: uuid.UUID) -> None:
        """Dispatch now if the courier answers; else the outbox message does it later."""
        try:
            await self.dispatch(delivery_id)
        except PluginUnavailable as exc:
            log.info("delivery %s: dispatch deferred to the outbox (%s)", delivery_id, exc)

    async def handle_dispatch(self, message: OutboxMessage) -> None:
        await self.dispatch(uuid.UUID(message.payload["delivery_id"]))

    async def handle_cancel(self, message: OutboxMessage) -> None:
        row = await self.db.fetchrow(
            "SELECT * FROM deliveries WHERE id = $1", uuid.UUID(message.payload["delivery_id"])
        )
        if row is None or row["tracking_number"] is None:
            return
        courier = self.plugins.couriers.get(row["courier_id"])
        await self.plugins.guard(
            "delivery cancel",
            self.plugins.couriers.key(row["courier_id"]),
            lambda: courier.cancel(row["tracking_number"]),
        )

    # -- events --------------------------------------------------------------------------------
    async def _record_event(
        self, connection: Connection, row: asyncpg.Record, event: TrackingEvent, source: Source
    ) -> bool:
        inserted = await connection.fetchval(
            """
            INSERT INTO delivery_events (delivery_id, event_key, status, at, note, reason, proof,
                                         source)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (delivery_id, event_key) DO NOTHING
            RETURNING true
            """,
            row["id"],
            event_key(event),
            event.status,
            event.at,
            event.note[:500],
            event.reason[:200] if event.reason else None,
            None if event.proof is None else msgspec.to_builtins(event.proof),
            source,
        )
        return bool(inserted)

    async def apply(
        self, connection: Connection, row: asyncpg.Record, event: TrackingEvent, source: Source
    ) -> bool:
        """Record ``event`` of the delivery (``row``, locked by the caller) once, move the
        delivery if the event moves it, and tell its purpose. False if it was seen before."""
        if not await self._record_event(connection, row, event, source):
            return False
        moved = row["status"] != event.status and may_move(row["status"], event.status)
        if moved:
            proof: dict[str, Any] | None = None
            if event.status == "delivered":
                proof = (
                    msgspec.to_builtins(event.proof)
                    if event.proof is not None
                    else {"recipient": None, "at": event.at.isoformat()}
                )
            row = await fetch_one(
                connection,
                """
                UPDATE deliveries
                   SET status = $2, status_changed_at = now(),
                       proof = coalesce($3, proof),
                       failure_reason = CASE WHEN $2 = 'failed' THEN $4 ELSE failure_reason END
                 WHERE id = $1
                RETURNING *
                """,
                row["id"],
                event.status,
                proof,
                (event.reason or "unknown")[:200],
            )
        listener = self._listener(row["purpose"])
        if listener is not None:
            await listener.delivery_moved(connection, view(row), event, moved)
        return True

    async def receive_callback(
        self, courier_id: str, headers: Mapping[str, str], body: bytes
    ) -> CallbackOutcome:
        """A courier's call-back: verified by the courier's plugin, then each event applied
        once. 404 for a courier not installed, 401 for a call-back that is not authentic or
        too old."""
        courier = self.plugins.couriers.adapters.get(courier_id)
        if courier is None:
            raise NotFound(f"no courier {courier_id!r} is installed")
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            events = courier.read_callback(lowered, body, dt.datetime.now(dt.UTC))
        except CallbackRejected as exc:
            log.warning("courier %s: call-back refused: %s", courier_id, exc)
            raise NotAuthenticated(
                f"this call-back is not {courier_id}'s, or is too old", code="bad-signature"
            ) from None
        except (ValueError, msgspec.ValidationError) as exc:
            raise MalformedRequest(f"the call-back could not be read: {exc}") from None
        applied = duplicates = unknown = 0
        for item in events:
            async with self.db.transaction() as connection:
                row = await connection.fetchrow(
                    "SELECT * FROM deliveries WHERE courier_id = $1 AND tracking_number = $2 "
                    "FOR UPDATE",
                    courier_id,
                    item.tracking_number,
                )
                if row is None:
                    unknown += 1
                elif await self.apply(connection, row, item.event, "callback"):
                    applied += 1
                else:
                    duplicates += 1
        return CallbackOutcome(applied=applied, duplicates=duplicates, unknown=unknown)

    # -- polling -------------------------------------------------------------------------------
    async def poll(self) -> int:
        """Ask the couriers where their parcels are, for parcels on their way that nobody
        asked about for POLL_AFTER; returns how many new events were applied."""
        async with self.db.transaction() as connection:
            due = await connection.fetch(
                """
                UPDATE deliveries SET polled_at = now()
                 WHERE id IN (SELECT id FROM deliveries
                               WHERE status = ANY($1::text[])
                                 AND (polled_at IS NULL OR polled_at < now() - $2::interval)
                               ORDER BY polled_at NULLS FIRST
                               LIMIT $3
                                 FOR UPDATE SKIP LOCKED)
                RETURNING id, courier_id, tracking_number
                """,
                sorted(ON_THEIR_WAY),
                POLL_AFTER,
                POLL_BATCH,
            )
        applied = 0
        for parcel in due:
            courier = self.plugins.couriers.adapters.get(parcel["courier_id"])
            if courier is None:
                continue
            try:
                events = await self.plugins.guard(
                    "delivery tracking",
                    self.plugins.couriers.key(parcel["courier_id"]),
                    lambda courier=courier, number=parcel["tracking_number"]: courier.track(  # type: ignore[misc]
                        number
                    ),
                )
            except PluginUnavailable as exc:
                log.info("delivery %s: tracking failed (%s)", parcel["id"], exc)
                continue
            for event in sorted(events, key=lambda event: event.at):
                async with self.db.transaction() as connection:
                    row = await connection.fetchrow(
                        "SELECT * FROM deliveries WHERE id = $1 FOR UPDATE", parcel["id"]
                    )
                    assert row is not None
                    applied += await self.apply(connection, row, event, "poll")
        return applied


async def poll_deliveries(services: Services) -> int:
    return await Deliveries(services).poll()


def delivery_handlers(services: Services) -> dict[str, Any]:
    deliveries = Deliveries(services)
    return {DISPATCH_TOPIC: deliveries.handle_dispatch, CANCEL_TOPIC: deliveries.handle_cancel}
