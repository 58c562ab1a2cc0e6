"""Reviews as tests need them: a completed, paid visit and the patient's review of it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Litestar

from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import (
    Doctor,
    Patient,
    complete_visit,
    expect,
    free_slots,
    hold,
    move_visit,
    pay,
)


async def reviewed_visit(
    app: Litestar, doctor: Doctor, patient: Patient, rating: int, body: str, *, hours_ago: int = 0
) -> dict[str, Any]:
    """A completed, paid visit of ``doctor`` with ``patient`` (begun ``hours_ago`` hours and
    five minutes ago, so several fit side by side), and its review (with ``booking_id``)."""
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[-1]
        booking = await hold(http, patient, slot["id"])
        await pay(app, patient, booking["id"])
        await complete_visit(app, patient, doctor, booking["id"])
        if hours_ago:
            await move_visit(app, booking["id"], -dt.timedelta(hours=hours_ago, minutes=5))
        review: dict[str, Any] = await expect(
            http.post(
                f"/api/bookings/{booking['id']}/review",
                headers=patient.headers,
                json={"rating": rating, "body": body},
            ),
            201,
        )
    return review | {"booking_id": booking["id"]}
