"""What the notifications domain adds: delivering each queued notification to every
notifier plugin (SMS, WeChat, e-mail, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import msgspec

from medmarket.domain import Domain
from medmarket.notifications.interface import Notification
from medmarket.notifications.service import TOPIC
from medmarket.outbox.worker import Handler, OutboxMessage
from medmarket.services import Services


def outbox_handlers(services: Services) -> Mapping[str, Handler]:
    async def send_notification(message: OutboxMessage) -> None:
        notification = msgspec.convert(message.payload, Notification)
        for notifier_id, notifier in services.plugins.notifiers:
            await services.plugins.guard(
                "notification",
                services.plugins.notifiers.key(notifier_id),
                partial(notifier.send, notification),
            )

    return {TOPIC: send_notification}


DOMAIN = Domain(name="notifications", outbox_handlers=outbox_handlers)
