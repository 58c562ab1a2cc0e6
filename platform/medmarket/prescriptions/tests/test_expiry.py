"""A prescription holds on the platform's day it was written, or up to three days when the
doctor says so; past its last day it has expired: it says so and nothing is approved or
dispensed on it, which the database refuses too."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest
from litestar import Litestar

from medmarket.db import Connection
from medmarket.prescriptions.states import NotDispensable, require_dispensable
from medmarket.prescriptions.tests.helpers import (
    call,
    move_back,
    ok,
    prescribe,
    prescription,
    visit_in_progress,
)
from medmarket.tests.support.factories import platform_day


async def test_the_day_written_or_up_to_three_days(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    today = platform_day()
    one_day = await prescribe(app, visit)
    assert (one_day["valid_from"], one_day["valid_until"]) == (today.isoformat(),) * 2
    three = await prescribe(app, visit, prescription(valid_days=3))
    assert three["valid_until"] == (today + dt.timedelta(days=2)).isoformat()
    expires_at = dt.datetime.fromisoformat(three["expires_at"])
    calendar = app.state.settings.calendar
    assert expires_at.astimezone(calendar) == dt.datetime.combine(
        today + dt.timedelta(days=3), dt.time(), calendar
    )
    for days in (0, 4):
        refused = await call(
            app, "POST", visit.path + "/prescriptions", visit.doctor, prescription(valid_days=days)
        )
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "valid_days"


async def test_past_its_last_day_it_has_expired(app: Litestar, superuser: Connection) -> None:
    visit = await visit_in_progress(app)
    short = await prescribe(app, visit)
    longer = await prescribe(app, visit, prescription(valid_days=3))
    await move_back(superuser, short["id"], dt.timedelta(days=1))
    await move_back(superuser, longer["id"], dt.timedelta(days=2))

    expired = await ok(app, "GET", f"/api/prescriptions/{short['id']}", visit.patient)
    assert (expired["status"], expired["standing"]) == ("issued", "expired")
    assert expired["valid_until"] == (platform_day() - dt.timedelta(days=1)).isoformat()
    still = await ok(app, "GET", f"/api/prescriptions/{longer['id']}", visit.patient)
    assert still["standing"] == "awaiting_review"  # its third day is today

    db = app.state.services.db  # as the application (the review desk)
    with pytest.raises(asyncpg.CheckViolationError, match="expired"):
        await db.execute(
            "UPDATE prescriptions SET status = 'approved', status_changed_at = now() WHERE id = $1",
            uuid.UUID(short["id"]),
        )
    row = await db.fetchrow(
        "SELECT status, expires_at FROM prescriptions WHERE id = $1", uuid.UUID(short["id"])
    )
    with pytest.raises(NotDispensable) as refused:
        require_dispensable(row["status"], row["expires_at"], None, dt.datetime.now(dt.UTC))
    assert refused.value.errors[0].code == "expired"
    # The one still valid is approved and then may be dispensed.
    await db.execute(
        "UPDATE prescriptions SET status = 'approved', status_changed_at = now() WHERE id = $1",
        uuid.UUID(longer["id"]),
    )
    row = await db.fetchrow(
        "SELECT status, expires_at FROM prescriptions WHERE id = $1", uuid.UUID(longer["id"])
    )
    require_dispensable(row["status"], row["expires_at"], None, dt.datetime.now(dt.UTC))
    # An expired prescription may still be voided (nothing is dispensed on it either way).
    voided = await ok(
        app, "POST", f"/api/prescriptions/{short['id']}/void", visit.doctor, {"reason": "过期"}
    )
    assert voided["standing"] == "voided"
