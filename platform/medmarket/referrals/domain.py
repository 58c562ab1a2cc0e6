"""What the referrals domain adds: doctors referring patients to partner hospitals and the
hospitals' answers (双向转诊); the handlers that ask hospitals and tell them of
cancellations, and that draft a referral when a first visit was not fit for online care
(``referral.suggested``, queued by bookings); and the job that follows up what hospitals
have not finished."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

from medmarket.domain import Domain
from medmarket.jobs import Job
from medmarket.outbox.worker import Handler, OutboxMessage
from medmarket.referrals import desk_pages, doctor_pages, pages, routes, sending
from medmarket.referrals.referring import (
    CANCEL_TOPIC,
    SEND_TOPIC,
    SUGGESTED_TOPIC,
    draft_from_visit,
)
from medmarket.services import Services


async def draft_suggested(services: Services, message: OutboxMessage) -> None:
    payload: dict[str, Any] = message.payload
    async with services.db.transaction() as connection:
        await draft_from_visit(
            connection, uuid.UUID(payload["booking_id"]), payload.get("note", "")
        )


def outbox_handlers(services: Services) -> Mapping[str, Handler]:
    return {
        SEND_TOPIC: partial(sending.send, services),
        CANCEL_TOPIC: partial(sending.cancel, services),
        SUGGESTED_TOPIC: partial(draft_suggested, services),
    }


async def follow_up_referrals(services: Services) -> int:
    return await sending.follow_up(services)


DOMAIN = Domain(
    name="referrals",
    routes=routes.ROUTES,
    pages=[*pages.ROUTES, *doctor_pages.ROUTES, *desk_pages.ROUTES],
    dependencies=routes.DEPENDENCIES,
    outbox_handlers=outbox_handlers,
    jobs=[Job("follow up referrals at hospitals", 60.0, follow_up_referrals)],
)
