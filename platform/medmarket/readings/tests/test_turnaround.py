"""A centre's turnaround, received to reported: how many, the median and 90th percentile in
minutes, and the share reported by the due time; for its admins and readers only."""

from __future__ import annotations

import datetime as dt

from litestar import Litestar

from medmarket.readings.tests.helpers import (
    call,
    ok,
    reading_centre,
    requester_visit,
    sent,
)

REPORT = {"findings": "未见明显异常。", "impression": "正常心电图。"}


async def test_turnaround_counts_reported_studies_against_their_targets(app: Litestar) -> None:
    centre = await reading_centre(app)
    [reader] = centre.readers
    path = f"/api/reading-centres/{centre.id}/turnaround"
    empty = await ok(app, "GET", path, centre.admin)
    assert empty["count"] == 0 and empty["median_minutes"] is None

    visit = await requester_visit(app)
    db = app.state.services.db
    # Three studies reported after 10, 60 and 300 minutes; the urgent target is 240.
    for minutes in (10, 60, 300):
        reading = await sent(app, centre, visit, urgency="urgent")
        await ok(app, "POST", f"/api/readings/{reading['id']}/claim", reader)
        await ok(app, "POST", f"/api/readings/{reading['id']}/report", reader, REPORT)
        # Received earlier than it was (the trigger keeps received_at: tests move the report).
        await db.execute(
            "UPDATE reading_requests SET reported_at = received_at + $2::interval WHERE id = $1",
            reading["id"],
            dt.timedelta(minutes=minutes),
        )
    # One still open: not counted.
    await sent(app, centre, visit, urgency="routine")

    figures = await ok(app, "GET", path, reader)
    assert figures["count"] == 3
    assert figures["median_minutes"] == 60
    assert figures["p90_minutes"] == 252  # 60 + 0.8 * (300 - 60)
    assert figures["within_target"] == round(2 / 3, 2)
    assert (await ok(app, "GET", path, centre.admin)) == figures
    # The requester is neither admin nor reader.
    assert (await call(app, "GET", path, visit.doctor)).status_code == 404
