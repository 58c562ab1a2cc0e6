"""Notifications about a doctor's application and standing, put in the outbox with the change
that caused them (topic ``notification.send``, a ``Notification`` payload).

Each notification's id is derived from what caused it (the status change, the licence's
expiry date), and is the outbox's dedupe key too: a job that runs twice notifies once.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from medmarket.db import Connection
from medmarket.notifications.service import notify


async def notify_user(
    connection: Connection,
    user_id: uuid.UUID,
    template: str,
    params: dict[str, Any],
    *,
    key: str,
    urgency: Literal["low", "normal", "high"] = "normal",
) -> bool:
    """Queue ``template`` for the user; False when ``key`` was queued before."""
    return await notify(connection, user_id, template, params, dedupe_key=key, urgency=urgency)


async def notify_hospital_admins(
    connection: Connection,
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
