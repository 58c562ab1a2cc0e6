"""A doctor who never joined by the end of the slot plus the grace period: the worker's job
cancels the booking as the doctor's no-show (full refund, the patient told), once."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from litestar import Litestar

from medmarket.consults.presence import flag_doctor_no_shows
from medmarket.consults.tests.helpers import (
    actions,
    booked_visit,
    notifications,
    ok,
    refunded,
)
from medmarket.domains import DOMAINS, jobs
from medmarket.signaling.client import SignalingClient
from medmarket.tests.support.payments import serving

# Slots are 30 minutes; the grace is 15: this visit's doctor is late past forgiving.
LONG_AGO = -dt.timedelta(minutes=50)


async def flagged(app: Litestar, consultation_id: str) -> bool:
    """Run the job; True if it ended this consultation (other tests' visits may be due too)."""
    await flag_doctor_no_shows(app.state.services)
    status: str = await app.state.services.db.fetchval(
        "SELECT status FROM consultations WHERE id = $1", uuid.UUID(consultation_id)
    )
    return status == "cancelled"


async def test_the_doctor_who_never_came_is_a_no_show(app: Litestar) -> None:
    visit = await booked_visit(app, starts_in=-dt.timedelta(minutes=20))
    await ok(app, "POST", visit.path + "/enter", visit.patient)  # the patient waited
    assert not await flagged(app, visit.consultation_id)  # within the slot and the grace

    await app.state.services.db.execute(
        "UPDATE bookings SET during = tstzrange(lower(during) - interval '30 minutes', "
        "upper(during) - interval '30 minutes') WHERE id = $1",
        uuid.UUID(visit.booking_id),
    )
    assert await flagged(app, visit.consultation_id)
    booking = await ok(app, "GET", f"/api/bookings/{visit.booking_id}", visit.patient)
    assert booking["status"] == "cancelled" and booking["end_reason"] == "doctor_no_show"
    assert booking["refund_percent"] == 100
    assert await refunded(app, visit) == [5000]
    told = await notifications(app, "booking.doctor_no_show", visit.patient.account.id)
    assert len(told) == 1 and told[0]["urgency"] == "high"
    shown = await ok(app, "GET", visit.path, visit.patient)
    assert shown["status"] == "cancelled" and shown["end_reason"] == "doctor_no_show"
    # Running again (or on another worker) changes nothing.
    await flag_doctor_no_shows(app.state.services)
    assert (await actions(app, visit.consultation_id)).count("consultation.doctor_no_show") == 1
    late = await ok(app, "GET", visit.path, visit.doctor)
    assert late["status"] == "cancelled"


@pytest.mark.slow
async def test_a_doctor_who_joined_the_room_is_not_a_no_show(app: Litestar) -> None:
    visit = await booked_visit(app)
    token = (await ok(app, "POST", visit.path + "/enter", visit.doctor))["room"]["token"]
    async with serving(app) as url:
        doctor = SignalingClient(visit.consultation_id, token)
        await doctor.connect(url)
        await doctor.close()
    joined_at = await app.state.services.db.fetchval(
        "SELECT doctor_joined_at FROM consultations WHERE id = $1",
        uuid.UUID(visit.consultation_id),
    )
    assert joined_at is not None
    trail = await actions(app, visit.consultation_id)
    assert "consultation.joined" in trail
    await app.state.services.db.execute(
        "UPDATE bookings SET during = tstzrange(now() + $2::interval, "
        "now() + $2::interval + interval '30 minutes') WHERE id = $1",
        uuid.UUID(visit.booking_id),
        LONG_AGO,
    )
    assert not await flagged(app, visit.consultation_id)


async def test_an_admitted_visit_is_not_a_no_show(app: Litestar) -> None:
    visit = await booked_visit(app)
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)  # e.g. from a page that
    await app.state.services.db.execute(  # never opened the socket
        "UPDATE bookings SET during = tstzrange(now() + $2::interval, "
        "now() + $2::interval + interval '30 minutes') WHERE id = $1",
        uuid.UUID(visit.booking_id),
        LONG_AGO,
    )
    assert not await flagged(app, visit.consultation_id)


def test_the_worker_runs_the_job(settings: object) -> None:
    periodic = {job.name: job for job in jobs(DOMAINS)}
    assert periodic["consultation doctor no-shows"].run is flag_doctor_no_shows
