"""What the courier's events do to an order (the delivery listener of "pharmacy_order"):
picked up or on its way → in_transit, delivered (with its proof) → delivered, failed → failed
(the patient is told why), returned to the pharmacy → returned and refunded in full. Events
that move nothing (out of order, or a step the order has no status for) are lines of its
timeline. Each event is heard once (the delivery domain keys them)."""

from __future__ import annotations

from medmarket.audit.service import SYSTEM
from medmarket.db import Connection
from medmarket.delivery.interface import TrackingEvent
from medmarket.delivery.listeners import DeliveryView
from medmarket.orders import queries
from medmarket.orders.desk import mark_returned
from medmarket.orders.notices import tell_patient
from medmarket.orders.ordering import PURPOSE
from medmarket.orders.states import TRANSITIONS, OrderStatus, move, note

_ORDER_STATUS: dict[str, OrderStatus] = {
    "picked_up": "in_transit",
    "in_transit": "in_transit",
    "delivered": "delivered",
    "failed": "failed",
    "returned": "returned",
}


def _text(event: TrackingEvent) -> str:
    parts = [event.note]
    if event.reason:
        parts.append(f"reason: {event.reason}")
    if event.proof is not None:
        parts.append(f"received by {event.proof.recipient}")
    return "; ".join(part for part in parts if part)


class OrderDeliveries:
    purpose = PURPOSE

    async def delivery_moved(
        self, connection: Connection, delivery: DeliveryView, event: TrackingEvent, moved: bool
    ) -> None:
        order = await queries.locked(connection, delivery.subject_id)
        target = _ORDER_STATUS.get(event.status)
        if not moved or target is None or (order["status"], target) not in TRANSITIONS:
            await note(connection, order["id"], f"courier:{event.status}", _text(event), SYSTEM)
            return
        if target == "returned":
            await mark_returned(connection, order, SYSTEM)
            return
        await move(
            connection,
            order,
            target,
            SYSTEM,
            note=_text(event),
            reason=event.reason if target == "failed" else None,
            detail={"courier_id": delivery.courier_id, "tracking_number": delivery.tracking_number},
        )
        await tell_patient(
            connection,
            order,
            f"pharmacy_order.{target}",
            {"reason": event.reason or ""},
            key=f"{order['id']}:{event.status}:{event.at.isoformat()}",
            urgency="high" if target == "failed" else "normal",
        )
