"""Notifications about a doctor's application and standing, put in the outbox with the change
that caused them (topic ``notification.send``, a ``Notification`` payload).

Each notification's id is derived from what caused it (the status change, the licence's
expiry date), and is the outbox's dedupe key too: a job that runs twice notifies once.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import asyncpg
import msgspec

from medmarket.notifications.interface import Notification, Recipient
from medmarket.outbox import enqueue

NOTIFICATION_TOPIC = "notification.send"


async def notify_user(
    connection: asyncpg.Connection,
    user_id: uuid.UUID,
    template: str,
    params: dict[str, Any],
    *,
    key: str,
    urgency: Literal["low", "normal", "high"] = "normal",
) -> bool:
    """Queue ``template`` for the user; False when ``key`` was queued before."""
    user = await connection.fetchrow(
        "SELECT id, display_name, email, locale FROM users WHERE id = $1", user_id
    )
    if user is None:
        return False
    notification = Notification(
        id=key,
        recipient=Recipient(
            user_id=str(user["id"]),
            display_name=user["display_name"],
            email=user["email"],
            locale=user["locale"],
        ),
        template=template,
        params={name: str(value) for name, value in params.items()},
        urgency=urgency,
    )
    queued = await enqueue(
        connection, NOTIFICATION_TOPIC, msgspec.to_builtins(notification), dedupe_key=key
    )
    return queued is not None


async def notify_hospital_admins(
    connection: asyncpg.Connection,
    hospital_id: uuid.UUID,
    template: str,
    params: dict[str, Any],
    *,
    key: str,
) -> None:
    admins = await connection.fetch(
        "SELECT user_id FROM hospital_admins WHERE hospital_id = $1", hospital_id
    )
    for admin in admins:
        await notify_user(
            connection, admin["user_id"], template, params, key=f"{key}:{admin['user_id']}"
        )
