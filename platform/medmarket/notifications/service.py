"""Queueing notifications: an outbox message per recipient, committed with the change that
causes it; the worker hands it to every notifier plugin."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec

from medmarket import outbox
from medmarket.db import Connection
from medmarket.notifications.interface import Notification, Recipient

TOPIC = "notification.send"


async def notify(
    connection: Connection,
    user_id: uuid.UUID,
    template: str,
    params: dict[str, Any],
    *,
    dedupe_key: str,
    urgency: Literal["low", "normal", "high"] = "normal",
) -> bool:
    """Queue ``template`` (a message key such as "booking.confirmed") for ``user_id``.
    ``dedupe_key`` names the event, so queuing the same event twice sends it once; returns
    False when it was queued before (or the user does not exist)."""
    row = await connection.fetchrow(
        "SELECT u.id, u.display_name, u.email, u.locale, "
        "(SELECT p.phone FROM patients p WHERE p.account_id = u.id AND p.relationship = 'self')"
        " AS phone FROM users u WHERE u.id = $1",
        user_id,
    )
    if row is None:
        return False
    notification = Notification(
        id=f"{template}:{dedupe_key}:{user_id}",
        recipient=Recipient(
            user_id=str(row["id"]),
            display_name=row["display_name"],
            email=row["email"],
            phone=row["phone"],
            locale=row["locale"],
        ),
        template=template,
        params={name: str(value) for name, value in params.items()},
        urgency=urgency,
    )
    queued = await outbox.enqueue(
        connection, TOPIC, msgspec.to_builtins(notification), dedupe_key=notification.id
    )
    return queued is not None
