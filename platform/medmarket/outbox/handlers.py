"""Where each outbox topic goes. Every handler is idempotent on the message id."""

from __future__ import annotations

from functools import partial
from typing import Any

import msgspec

from medmarket.doctors.events import DOCTOR_SUSPENDED
from medmarket.notifications.interface import Notification
from medmarket.outbox.worker import Handler, OutboxMessage
from medmarket.services import Services


def build_handlers(services: Services) -> dict[str, Handler]:
    async def send_notification(message: OutboxMessage) -> None:
        notification = msgspec.convert(message.payload, Notification)
        for notifier_id, notifier in services.plugins.notifiers:
            await services.plugins.guard(
                "notification", f"notifier:{notifier_id}", partial(notifier.send, notification)
            )

    async def post_webhook(message: OutboxMessage) -> None:
        # services.http refuses non-public receivers outside the operator's allowed networks.
        payload: dict[str, Any] = message.payload
        response = await services.http.post(
            payload["url"],
            json=payload["body"],
            headers={"Idempotency-Key": f"outbox-{message.id}"},
        )
        response.raise_for_status()

    # Imported here: these domains themselves build on the outbox.
    from medmarket.bookings.suspensions import suspension_handler
    from medmarket.consults import room
    from medmarket.payments.tasks import payment_handlers
    from medmarket.signaling.rooms import RoomStore

    rooms = RoomStore(services.redis, max_participants=services.settings.signaling_max_participants)

    return {
        "notification.send": send_notification,
        "webhook.post": post_webhook,
        DOCTOR_SUSPENDED: suspension_handler(services.db),
        room.RELAY_TOPIC: partial(room.relay, rooms),
        **payment_handlers(services),
    }
