"""Who is told what of an order, in the transaction of the change: the patient's account of
each step, and the pharmacy's pharmacists of what they must act on."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from medmarket.db import Connection
from medmarket.notifications.service import notify


async def tell_patient(
    connection: Connection,
    order: asyncpg.Record,
    template: str,
    params: dict[str, Any],
    *,
    key: str | None = None,
    urgency: Literal["low", "normal", "high"] = "normal",
) -> None:
    await notify(
        connection,
        order["account_id"],
        template,
        {"order_id": str(order["id"]), **params},
        dedupe_key=key or str(order["id"]),
        urgency=urgency,
    )


async def tell_pharmacy(
    connection: Connection, order: asyncpg.Record, template: str, params: dict[str, Any]
) -> None:
    pharmacists = await connection.fetch(
        "SELECT user_id FROM pharmacy_pharmacists WHERE pharmacy_id = $1 AND left_at IS NULL",
        order["pharmacy_id"],
    )
    for pharmacist in pharmacists:
        await notify(
            connection,
            pharmacist["user_id"],
            template,
            {"order_id": str(order["id"]), **params},
            dedupe_key=str(order["id"]),
        )
