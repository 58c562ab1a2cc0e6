"""What the outbox domain adds beside the worker itself: posting a JSON body to a URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medmarket.domain import Domain
from medmarket.outbox.worker import Handler, OutboxMessage
from medmarket.services import Services

WEBHOOK_TOPIC = "webhook.post"


def outbox_handlers(services: Services) -> Mapping[str, Handler]:
    async def post_webhook(message: OutboxMessage) -> None:
        # services.http refuses non-public receivers outside the operator's allowed networks.
        payload: dict[str, Any] = message.payload
        response = await services.http.post(
            payload["url"],
            json=payload["body"],
            headers={"Idempotency-Key": f"outbox-{message.id}"},
        )
        response.raise_for_status()

    return {WEBHOOK_TOPIC: post_webhook}


DOMAIN = Domain(name="outbox", outbox_handlers=outbox_handlers)
