"""Small readers the doctors' tests share."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Litestar

from medmarket.notifications.interface import Notification
from medmarket.tests.support.factories import platform_day


async def outbox(app: Litestar, topic: str, **payload: Any) -> list[dict[str, Any]]:
    """Payloads of ``topic`` queued so far whose top-level fields match ``payload``."""
    rows = await app.state.services.db.fetch(
        "SELECT payload FROM outbox WHERE topic = $1 AND payload @> $2::jsonb ORDER BY id",
        topic,
        payload,
    )
    return [row["payload"] for row in rows]


async def notifications(app: Litestar, user_id: str, template: str) -> list[Notification]:
    rows = await app.state.services.db.fetch(
        """
        SELECT payload FROM outbox
         WHERE topic = 'notification.send' AND payload -> 'recipient' ->> 'user_id' = $1
           AND payload ->> 'template' = $2
         ORDER BY id
        """,
        user_id,
        template,
    )
    return [msgspec.convert(row["payload"], Notification) for row in rows]


async def audit_actions(app: Litestar, doctor_id: str) -> list[str]:
    rows = await app.state.services.db.fetch(
        "SELECT action FROM audit_events WHERE subject_type = 'doctor' AND subject_id = $1 "
        "ORDER BY id",
        doctor_id,
    )
    return [row["action"] for row in rows]


async def is_bookable(app: Litestar, doctor_id: str) -> bool:
    found = await app.state.services.db.fetchval(
        "SELECT 1 FROM bookable_doctors WHERE id = $1::uuid", doctor_id
    )
    return bool(found)


def statuses(application: dict[str, Any]) -> list[str]:
    return [change["to_status"] for change in application["history"]]


def checks_by_kind(application: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["kind"]: check for check in application["latest_checks"]["checks"]}


def days(n: int) -> dt.date:
    return platform_day() + dt.timedelta(days=n)
