"""A consultation's life: made once per paid booking, the waiting room opening 15 minutes
early, the doctor admitting, and the end of the visit decided through the booking's rules."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar

from medmarket import CallContext, HealthReport, IceServer, MediaProfile, QosSession, hookimpl
from medmarket.app import create_app
from medmarket.consults.tests.helpers import (
    actions,
    booked_visit,
    call,
    confirm_payment,
    notifications,
    ok,
    refunded,
)
from medmarket.settings import Settings
from medmarket.signaling.messages import Participant
from medmarket.signaling.rooms import RoomStore
from medmarket.signaling.tokens import verify_room_token
from medmarket.tests.support.fixtures import make_settings, running
from medmarket.tests.support.payments import stripe_settings
from medmarket.tests.support.seed import approved_doctor, move_visit
from medmarket.video.interface import HIGH_THROUGHPUT


async def test_one_consultation_per_paid_booking_kept_by_the_database(app: Litestar) -> None:
    visit = await booked_visit(app, starts_in=None)
    shown = await ok(app, "GET", visit.path, visit.patient)
    assert shown["status"] == "scheduled" and shown["booking_id"] == visit.booking_id
    assert shown["my_role"] == "patient"
    await confirm_payment(app, visit.booking_id)  # the payment's news, delivered twice
    db = app.state.services.db
    count = await db.fetchval(
        "SELECT count(*) FROM consultations WHERE booking_id = $1", uuid.UUID(visit.booking_id)
    )
    assert count == 1
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(
            "INSERT INTO consultations (booking_id) VALUES ($1)", uuid.UUID(visit.booking_id)
        )
    assert (await actions(app, visit.consultation_id))[:3] == [
        "booking.held",
        "consultation.scheduled",
        "booking.confirmed",
    ]


async def test_the_waiting_room_opens_fifteen_minutes_early(app: Litestar) -> None:
    visit = await booked_visit(app, starts_in=dt.timedelta(minutes=20))
    early = await call(app, "POST", visit.path + "/enter", visit.patient)
    assert early.status_code == 409, early.text
    problem = early.json()
    assert problem["type"] == "/problems/room-not-open"
    assert problem["errors"][0]["code"] == "not-yet-open"
    starts_at = dt.datetime.fromisoformat(
        (await ok(app, "GET", visit.path, visit.patient))["starts_at"]
    )
    assert dt.datetime.fromisoformat(problem["opens_at"]) == starts_at - dt.timedelta(minutes=15)

    await move_visit(app, visit.booking_id, dt.timedelta(minutes=10))
    entered = await ok(app, "POST", visit.path + "/enter", visit.patient)
    consultation, room = entered["consultation"], entered["room"]
    assert consultation["status"] == "waiting" and consultation["waiting_since"]
    starts_at = dt.datetime.fromisoformat(consultation["starts_at"])
    assert dt.datetime.fromisoformat(room["not_before"]) == starts_at - dt.timedelta(minutes=15)
    grant = verify_room_token(app.state.settings, room["token"], uuid.UUID(visit.consultation_id))
    assert (grant.participant_id, grant.role) == (visit.patient.account.id, "patient")
    assert room["signal_path"] == f"/ws/consultations/{visit.consultation_id}/signal"

    # The doctor sees who waits: in the list of waiting consultations, and told at once.
    waiting = await ok(app, "GET", "/api/consultations", visit.doctor, params={"status": "waiting"})
    assert [c["id"] for c in waiting] == [visit.consultation_id]
    around = {"from": (starts_at - dt.timedelta(minutes=1)).isoformat()}
    later = {"from": (starts_at + dt.timedelta(minutes=1)).isoformat()}
    assert len(await ok(app, "GET", "/api/consultations", visit.doctor, params=around)) == 1
    assert await ok(app, "GET", "/api/consultations", visit.doctor, params=later) == []
    by_booking = await ok(
        app, "GET", "/api/consultations", visit.patient, params={"booking_id": visit.booking_id}
    )
    assert [c["id"] for c in by_booking] == [visit.consultation_id]
    assert await notifications(app, "consultation.patient_waiting", visit.doctor.account.id)
    # Entering again (a reload) gives a new token and changes nothing else.
    again = await ok(app, "POST", visit.path + "/enter", visit.patient)
    assert again["consultation"]["waiting_since"] == consultation["waiting_since"]
    assert (
        len(await notifications(app, "consultation.patient_waiting", visit.doctor.account.id)) == 1
    )


async def test_the_room_closes_after_the_grace_period(app: Litestar) -> None:
    visit = await booked_visit(app, starts_in=-dt.timedelta(hours=2))
    late = await call(app, "POST", visit.path + "/enter", visit.patient)
    assert late.status_code == 409 and late.json()["errors"][0]["code"] == "closed"


async def test_the_doctor_admits_the_waiting_patient_and_ends_the_visit(app: Litestar) -> None:
    visit = await booked_visit(app)
    colleague = await approved_doctor(app, specialties=("影像科",))
    await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    not_waiting = await call(app, "POST", visit.path + "/admit", visit.doctor)
    assert not_waiting.status_code == 409
    assert not_waiting.json()["errors"][0]["code"] == "patient-not-waiting"

    await ok(app, "POST", visit.path + "/enter", visit.patient)
    by_colleague = await call(app, "POST", visit.path + "/admit", colleague)
    assert by_colleague.status_code == 403
    admitted = await ok(app, "POST", visit.path + "/admit", visit.doctor)
    assert admitted["status"] == "in_progress" and admitted["started_at"]
    assert await ok(app, "POST", visit.path + "/admit", visit.doctor) == admitted
    told = await notifications(app, "consultation.admitted", visit.patient.account.id)
    assert len(told) == 1 and told[0]["urgency"] == "high"

    ended = await ok(
        app, "POST", visit.path + "/end", visit.doctor, {"outcome": "completed", "note": "复查"}
    )
    assert ended["status"] == "completed" and ended["end_reason"] == "completed"
    booking = await ok(app, "GET", f"/api/bookings/{visit.booking_id}", visit.patient)
    assert booking["status"] == "completed"
    for person in (visit.patient, colleague):
        assert len(await notifications(app, "consultation.ended", person.account.id)) == 1
    over = await call(app, "POST", visit.path + "/enter", visit.patient)
    assert over.status_code == 409 and over.json()["type"] == "/problems/consultation-ended"
    again = await call(app, "POST", visit.path + "/end", visit.doctor, {"outcome": "completed"})
    assert again.status_code == 409
    trail = await actions(app, visit.consultation_id)
    for expected in (
        "consultation.waiting",
        "consultation.token_issued",
        "consultation.started",
        "booking.completed",
        "consultation.ended",
    ):
        assert expected in trail
    assert trail.index("consultation.started") < trail.index("booking.completed")


async def test_an_unsuitable_first_visit_is_refunded_by_the_booking_rules(app: Litestar) -> None:
    visit = await booked_visit(app)
    early_end = await call(
        app, "POST", visit.path + "/end", visit.doctor, {"outcome": "first_visit_unsuitable"}
    )
    assert early_end.status_code == 409 and early_end.json()["errors"][0]["code"] == "not-started"
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    ended = await ok(
        app,
        "POST",
        visit.path + "/end",
        visit.doctor,
        {"outcome": "first_visit_unsuitable", "note": "需要线下检查"},
    )
    assert ended["status"] == "terminated" and ended["refund_percent"] == 100
    assert await refunded(app, visit) == [5000]  # the whole price, once


async def test_a_patient_no_show_needs_time_and_an_empty_room(app: Litestar) -> None:
    visit = await booked_visit(app)  # began five minutes ago
    no_show = {"outcome": "patient_no_show"}
    too_early = await call(app, "POST", visit.path + "/end", visit.doctor, no_show)
    assert too_early.status_code == 409 and too_early.json()["errors"][0]["code"] == "too-early"
    await move_visit(app, visit.booking_id, -dt.timedelta(minutes=12))
    rooms = RoomStore(app.state.services.redis, max_participants=8)
    consultation = uuid.UUID(visit.consultation_id)
    patient = Participant(visit.patient.account.id, "patient")
    await rooms.join(consultation, patient, "connection-1")
    present = await call(app, "POST", visit.path + "/end", visit.doctor, no_show)
    assert present.status_code == 409
    assert present.json()["errors"][0]["code"] == "patient-present"
    await rooms.leave(consultation, patient.id, "connection-1")
    ended = await ok(app, "POST", visit.path + "/end", visit.doctor, no_show)
    assert ended["status"] == "no_show" and ended["refund_percent"] is None
    assert await refunded(app, visit) == []


async def test_an_admitted_patient_is_not_a_no_show(app: Litestar) -> None:
    visit = await booked_visit(app, starts_in=-dt.timedelta(minutes=12))
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    refused = await call(
        app, "POST", visit.path + "/end", visit.doctor, {"outcome": "patient_no_show"}
    )
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "patient-attended"


async def test_the_consultation_follows_its_booking_however_it_ends(app: Litestar) -> None:
    cancelled = await booked_visit(app, starts_in=None)
    await ok(
        app,
        "POST",
        f"/api/bookings/{cancelled.booking_id}/cancel",
        cancelled.patient,
        {"reason": "家里有事"},
    )
    shown = await ok(app, "GET", cancelled.path, cancelled.patient)
    assert shown["status"] == "cancelled" and shown["end_reason"] == "patient_cancelled"
    assert shown["ended_at"] is not None
    refused = await call(app, "POST", cancelled.path + "/enter", cancelled.patient)
    assert refused.status_code == 409

    # Recording the outcome on the booking itself follows the consultation's rules.
    visit = await booked_visit(app)
    outcome = f"/api/doctor/bookings/{visit.booking_id}/outcome"
    early = await call(app, "POST", outcome, visit.doctor, {"outcome": "completed"})
    assert (early.status_code, early.json()["errors"][0]["code"]) == (409, "not-started")
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    await ok(app, "POST", outcome, visit.doctor, {"outcome": "completed"})
    assert (await ok(app, "GET", visit.path, visit.doctor))["status"] == "completed"


async def test_the_video_provider_is_one_that_is_installed(app: Litestar) -> None:
    visit = await booked_visit(app)
    unknown = await call(
        app, "PUT", visit.path + "/video", visit.doctor, {"provider": "no-such-carrier"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "provider"
    assert "webrtc" in unknown.json()["installed"]
    chosen = await ok(
        app,
        "PUT",
        visit.path + "/video",
        visit.doctor,
        {"provider": "webrtc", "high_throughput": True},
    )
    assert chosen["video"] == {"provider": "webrtc", "high_throughput": True}
    by_patient = await call(app, "PUT", visit.path + "/video", visit.patient, {})
    assert by_patient.status_code == 403


class UltrasoundCarrier:
    """An installed provider other than the built-in one, recording what it is asked."""

    id, display_name = "carrier-5g", "A 5G carrier"

    def __init__(self) -> None:
        self.asked: list[CallContext] = []

    async def ice_servers(self, call: CallContext) -> list[IceServer]:
        self.asked.append(call)
        return [IceServer(urls=("turn:edge.carrier.example:3478",), username="u", credential="c")]

    async def media_profile(self, call: CallContext) -> MediaProfile:
        return HIGH_THROUGHPUT if call.wants_high_throughput else MediaProfile()

    async def open_qos_session(self, call: CallContext) -> QosSession | None:
        return None

    async def extend_qos_session(self, session: QosSession, seconds: int) -> QosSession:
        return session

    async def close_qos_session(self, session: QosSession) -> None:
        return None

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True)


class CarrierPlugin:
    def __init__(self) -> None:
        self.carrier = UltrasoundCarrier()

    @hookimpl
    def medmarket_video_providers(self, settings: Settings) -> Sequence[Any]:
        return [self.carrier]


async def test_a_remote_ultrasound_gets_the_carrier_at_high_throughput(
    database_url: str, localstripe_url: str, tmp_path: Path
) -> None:
    plugin = CarrierPlugin()
    settings = make_settings(
        database_url, data_dir=str(tmp_path), **stripe_settings(localstripe_url)
    )
    async with running(create_app(settings, extra_plugins=[("carrier", plugin)])) as carrier_app:
        visit = await booked_visit(carrier_app)
        await ok(
            carrier_app,
            "PUT",
            visit.path + "/video",
            visit.doctor,
            {"provider": "carrier-5g", "high_throughput": True},
        )
        room = (await ok(carrier_app, "POST", visit.path + "/enter", visit.patient))["room"]
        assert room["video"] == {"provider": "carrier-5g", "high_throughput": True}
        setup = await ok(
            carrier_app, "POST", room["video_setup_path"], visit.patient, {"token": room["token"]}
        )
    assert setup["provider"] == "carrier-5g" and setup["degraded"] == []
    assert setup["media_profile"]["name"] == "high-throughput"
    (asked,) = plugin.carrier.asked
    assert asked.consultation_id == visit.consultation_id and asked.wants_high_throughput
    assert asked.participant_id == visit.patient.account.id
