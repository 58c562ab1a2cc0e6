"""Holding, confirming, expiring and cancelling bookings; nobody books a time twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from litestar import Litestar

from medmarket.app import create_app
from medmarket.audit.service import SYSTEM
from medmarket.bookings.service import Bookings
from medmarket.settings import Settings
from medmarket.tests.support.factories import platform_day
from medmarket.tests.support.fixtures import Account, SignUp, client_for, make_settings, running
from medmarket.tests.support.seed import (
    PRIOR,
    Doctor,
    Patient,
    admit,
    approved_doctor,
    begin_visit,
    expect,
    free_slots,
    hold,
    pay,
    ready_patient,
)


async def test_fifty_concurrent_bookings_of_one_slot_give_one_success(app: Litestar) -> None:
    doctor = await approved_doctor(app)
    patients = await asyncio.gather(*(ready_patient(app) for _ in range(50)))
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[0]

    async def attempt(patient: Patient) -> httpx.Response:
        async with client_for(app) as http:
            return await http.post(
                "/api/bookings",
                headers=patient.headers,
                json={"slot_id": slot["id"], "patient_id": patient.id, "prior_diagnosis": PRIOR},
            )

    responses = await asyncio.gather(*(attempt(p) for p in patients))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1
    assert statuses.count(409) == 49
    losers = [r.json() for r in responses if r.status_code == 409]
    assert all(p["type"] == "/problems/slot-taken" for p in losers)
    live = await app.state.services.db.fetchval(
        "SELECT count(*) FROM bookings WHERE slot_id = $1 AND status IN ('held', 'confirmed')",
        uuid.UUID(slot["id"]),
    )
    assert live == 1


async def test_the_database_refuses_overlapping_live_bookings(app: Litestar) -> None:
    import asyncpg

    doctor = await approved_doctor(app)
    first, second = await ready_patient(app), await ready_patient(app)
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[0]
        await hold(http, first, slot["id"])
    # Even bypassing the service (and the slot lock), the constraint holds.
    async with app.state.services.db.connection() as connection:
        with pytest.raises(asyncpg.ExclusionViolationError):
            await connection.execute(
                """
                INSERT INTO bookings (slot_id, doctor_id, patient_id, booked_by, kind, during,
                       status, hold_expires_at, price_fen, free_cancel_hours,
                       late_cancel_refund_percent, prior_institution, prior_diagnosed_on,
                       prior_diagnosis, consent_id)
                SELECT s.id, s.doctor_id, p.id, p.account_id, 'video',
                       tstzrange(s.starts_at + interval '5 minutes', s.ends_at), 'confirmed',
                       NULL, 5000, 24, 50, '某医院', '2026-01-01', '高血压', c.id
                  FROM slots s, patients p, health_data_consents c
                 WHERE s.id = $1 AND p.id = $2 AND c.account_id = p.account_id
                   AND c.withdrawn_at IS NULL
                """,
                uuid.UUID(slot["id"]),
                uuid.UUID(second.id),
            )


async def test_hold_expiry_releases_the_slot(database_url: str) -> None:
    settings: Settings = make_settings(database_url, booking_hold_seconds=30)
    async with running(create_app(settings)) as app:
        doctor = await approved_doctor(app)
        first, second = await ready_patient(app), await ready_patient(app)
        async with client_for(app) as http:
            slot = (await free_slots(http, doctor.id))[0]
            held = await hold(http, first, slot["id"])
            assert held["status"] == "held"
            taken = await http.post(
                "/api/bookings",
                headers=second.headers,
                json={"slot_id": slot["id"], "patient_id": second.id, "prior_diagnosis": PRIOR},
            )
            assert taken.status_code == 409
            assert slot["id"] not in [s["id"] for s in await free_slots(http, doctor.id)]
            # Let the hold run out (moved into the past rather than waiting).
            await app.state.services.db.execute(
                "UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id = $1",
                uuid.UUID(held["id"]),
            )
            await app.state.services.db.execute(
                "UPDATE slots SET held_until = now() - interval '1 second' WHERE id = $1",
                uuid.UUID(slot["id"]),
            )
            assert slot["id"] in [s["id"] for s in await free_slots(http, doctor.id)]
            retaken = await hold(http, second, slot["id"])
            assert retaken["status"] == "held"
            mine = await expect(http.get(f"/api/bookings/{held['id']}", headers=first.headers))
            assert mine["status"] == "expired"
            trail = await app.state.services.db.fetch(
                "SELECT action FROM audit_events "
                "WHERE subject_type = 'booking' AND subject_id = $1 ORDER BY id",
                held["id"],
            )
            assert [row["action"] for row in trail] == ["booking.held", "booking.expired"]
            # Paying for the lapsed hold is refused: nothing is charged for a lost time.
            late = await http.post(
                "/api/payments",
                headers=first.headers,
                json={"purpose": "booking", "subject_id": held["id"]},
            )
            assert late.status_code == 409
            assert late.json()["type"] == "/problems/hold-expired"


async def test_sweeper_expires_lapsed_holds(app: Litestar) -> None:
    doctor = await approved_doctor(app)
    patient = await ready_patient(app)
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[0]
        held = await hold(http, patient, slot["id"])
    await app.state.services.db.execute(
        "UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(held["id"]),
    )
    assert await Bookings(app.state.services.db, 600).expire_holds(SYSTEM) >= 1
    state = await app.state.services.db.fetchval(
        "SELECT state FROM slots WHERE id = $1", uuid.UUID(slot["id"])
    )
    assert state == "open"


async def test_payment_confirms_and_patient_cancellation_follows_the_policy(app: Litestar) -> None:
    doctor = await approved_doctor(
        app, free_cancel_hours=24, late_cancel_refund_percent=30, publish_days=4
    )
    patient = await ready_patient(app)
    async with client_for(app) as http:
        slots = await free_slots(http, doctor.id)
        soon = next(
            s
            for s in slots
            if dt.datetime.fromisoformat(s["starts_at"])
            < dt.datetime.now(dt.UTC) + dt.timedelta(hours=20)
        )
        later = next(
            s
            for s in slots
            if dt.datetime.fromisoformat(s["starts_at"])
            > dt.datetime.now(dt.UTC) + dt.timedelta(hours=30)
        )
        results, payments = {}, {}
        for name, slot in (("soon", soon), ("later", later)):
            booking = await hold(http, patient, slot["id"])
            paid = await pay(app, patient, booking["id"])
            confirmed = await expect(
                http.get(f"/api/bookings/{booking['id']}", headers=patient.headers)
            )
            assert confirmed["status"] == "confirmed"
            payments[name] = paid["id"]
            results[name] = await expect(
                http.post(
                    f"/api/bookings/{booking['id']}/cancel",
                    headers=patient.headers,
                    json={"reason": "家里有事"},
                )
            )
        assert results["later"]["refund_percent"] == 100
        assert results["soon"]["refund_percent"] == 30
        assert results["soon"]["status"] == "cancelled"
        for name, expected in (("soon", 1500), ("later", 5000)):
            refunds = await expect(
                http.get(f"/api/payments/{payments[name]}/refunds", headers=patient.headers)
            )
            assert [r["amount"]["amount"] for r in refunds] == [expected], name
        late = await expect(
            http.get(f"/api/payments/{payments['soon']}/refunds", headers=patient.headers)
        )
        assert late[0]["reason"] == "patient_cancelled_late"
        # The time is free again for someone else.
        assert later["id"] in [s["id"] for s in await free_slots(http, doctor.id)]


async def test_doctor_cancels_with_full_refund_and_the_patient_is_told(app: Litestar) -> None:
    doctor = await approved_doctor(app)
    patient = await ready_patient(app)
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[0]
        booking = await hold(http, patient, slot["id"])
        assert booking["actions"] == ["pay", "cancel"]
        paid = await pay(app, patient, booking["id"])
        seen_by_doctor = await expect(
            http.get(f"/api/bookings/{booking['id']}", headers=doctor.headers)
        )
        assert seen_by_doctor["actions"] == ["enter", "cancel"]  # hours ahead: no outcome yet
        no_reason = await http.post(
            f"/api/doctor/bookings/{booking['id']}/cancel", headers=doctor.headers, json={}
        )
        assert no_reason.status_code == 422
        cancelled = await expect(
            http.post(
                f"/api/doctor/bookings/{booking['id']}/cancel",
                headers=doctor.headers,
                json={"reason": "临时手术"},
            )
        )
        assert cancelled["refund_percent"] == 100 and cancelled["end_reason"] == "doctor_cancelled"
        assert cancelled["actions"] == []
        refunds = await expect(
            http.get(f"/api/payments/{paid['id']}/refunds", headers=patient.headers)
        )
        assert [(r["amount"]["amount"], r["reason"]) for r in refunds] == [
            (paid["amount"]["amount"], "doctor_cancelled")
        ]
        told = await app.state.services.db.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'notification.send' "
            "AND payload->>'template' = 'booking.cancelled_by_doctor' "
            "AND payload->'recipient'->>'user_id' = $1",
            patient.account.id,
        )
        assert told == 1
        assert slot["id"] not in [s["id"] for s in await free_slots(http, doctor.id)]


async def test_first_visit_unsuitable_online_is_refunded_and_referred(app: Litestar) -> None:
    doctor = await approved_doctor(app)
    patient = await ready_patient(app)
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[-1]
        booking = await hold(http, patient, slot["id"])
        await pay(app, patient, booking["id"])
        early = await http.post(
            f"/api/doctor/bookings/{booking['id']}/outcome",
            headers=doctor.headers,
            json={"outcome": "completed"},
        )
        assert early.status_code == 409
        await begin_visit(app, booking["id"])
        not_admitted = await http.post(
            f"/api/doctor/bookings/{booking['id']}/outcome",
            headers=doctor.headers,
            json={"outcome": "first_visit_unsuitable", "note": "需要线下检查"},
        )
        assert not_admitted.status_code == 409  # judged in the call, with the patient there
        assert not_admitted.json()["errors"][0]["code"] == "not-started"
        await admit(app, patient, doctor, booking["id"])
        ended = await expect(
            http.post(
                f"/api/doctor/bookings/{booking['id']}/outcome",
                headers=doctor.headers,
                json={"outcome": "first_visit_unsuitable", "note": "需要线下检查"},
            )
        )
        assert ended["status"] == "terminated" and ended["refund_percent"] == 100
        referral = await app.state.services.db.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'referral.suggested' "
            "AND payload->>'booking_id' = $1",
            booking["id"],
        )
        assert referral == 1


async def test_a_booking_needs_real_name_consent_and_a_prior_diagnosis(
    app: Litestar, sign_up: SignUp
) -> None:
    doctor = await approved_doctor(app)
    bare = await sign_up("patient")
    ready = await ready_patient(app)
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[0]
        no_name = await http.post(
            "/api/bookings",
            headers=bare.headers,
            json={"slot_id": slot["id"], "patient_id": ready.id, "prior_diagnosis": PRIOR},
        )
        assert no_name.json()["type"] == "/problems/real-name-required"
        for prior, field in [
            ({**PRIOR, "institution": " "}, "prior_diagnosis.institution"),
            ({**PRIOR, "diagnosis": ""}, "prior_diagnosis.diagnosis"),
            ({**PRIOR, "diagnosed_on": "2999-01-01"}, "prior_diagnosis.diagnosed_on"),
        ]:
            bad = await http.post(
                "/api/bookings",
                headers=ready.headers,
                json={"slot_id": slot["id"], "patient_id": ready.id, "prior_diagnosis": prior},
            )
            assert bad.status_code == 422
            assert bad.json()["errors"][0]["field"] == field
        missing = await http.post(
            "/api/bookings",
            headers=ready.headers,
            json={"slot_id": slot["id"], "patient_id": ready.id},
        )
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["field"] == "prior_diagnosis"
        await http.delete("/api/patients/me/consent", headers=ready.headers)
        no_consent = await http.post(
            "/api/bookings",
            headers=ready.headers,
            json={"slot_id": slot["id"], "patient_id": ready.id, "prior_diagnosis": PRIOR},
        )
        assert no_consent.json()["type"] == "/problems/consent-required"


async def test_a_young_child_needs_a_guardian(app: Litestar) -> None:
    doctor = await approved_doctor(app, specialties=("儿科",))
    parent = await ready_patient(app)
    async with client_for(app) as http:
        child = await expect(
            http.post(
                "/api/patients/me/family",
                headers=parent.headers,
                json={
                    "real_name": "王 豆豆",
                    "relationship": "child",
                    "date_of_birth": (platform_day() - dt.timedelta(days=3 * 365)).isoformat(),
                },
            )
        )
        slot = (await free_slots(http, doctor.id))[0]
        booking = await expect(
            http.post(
                "/api/bookings",
                headers=parent.headers,
                json={
                    "slot_id": slot["id"],
                    "patient_id": child["id"],
                    "prior_diagnosis": {**PRIOR, "diagnosed_on": "2026-09-01"},
                },
            ),
            201,
        )
    assert booking["guardian_required"] is True and booking["patient_name"] == "王 豆豆"


async def test_others_get_the_same_404_as_for_a_missing_booking(app: Litestar) -> None:
    doctor, other_doctor = await approved_doctor(app), await approved_doctor(app)
    owner, stranger = await ready_patient(app), await ready_patient(app)
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[0]
        booking = await hold(http, owner, slot["id"])
        missing = await http.get(f"/api/bookings/{uuid.uuid4()}", headers=stranger.headers)
        attempts: list[tuple[Patient | Doctor, str, str, dict[str, str] | None]] = [
            (stranger, "GET", f"/api/bookings/{booking['id']}", None),
            (stranger, "POST", f"/api/bookings/{booking['id']}/cancel", {}),
            (other_doctor, "GET", f"/api/bookings/{booking['id']}", None),
            (other_doctor, "POST", f"/api/doctor/bookings/{booking['id']}/cancel", {"reason": "x"}),
            (
                other_doctor,
                "POST",
                f"/api/doctor/bookings/{booking['id']}/outcome",
                {"outcome": "completed"},
            ),
        ]
        for caller, method, path, body in attempts:
            response = await http.request(method, path, json=body, headers=caller.headers)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["detail"] == missing.json()["detail"]
        # A stranger cannot book for someone else's patient record either.
        other_patient = await http.post(
            "/api/bookings",
            headers=stranger.headers,
            json={"slot_id": slot["id"], "patient_id": owner.id, "prior_diagnosis": PRIOR},
        )
        assert other_patient.status_code == 404
        assert (await expect(http.get(f"/api/bookings/{booking['id']}", headers=doctor.headers)))[
            "id"
        ] == booking["id"]
        day = await expect(
            http.get(
                "/api/doctor/bookings",
                headers=doctor.headers,
                params={"date": slot["starts_at"][:10], "tz": "UTC"},
            )
        )
        assert booking["id"] in [b["id"] for b in day]


async def test_the_worker_releases_lapsed_holds_on_its_own(
    app: Litestar, settings: Settings
) -> None:
    import os
    import signal
    import subprocess
    import sys

    doctor = await approved_doctor(app)
    patient = await ready_patient(app)
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[0]
        held = await hold(http, patient, slot["id"])
    await app.state.services.db.execute(
        "UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(held["id"]),
    )
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "MEDMARKET_SECRET_KEY": settings.secret_key,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "medmarket.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            status = await app.state.services.db.fetchval(
                "SELECT status FROM bookings WHERE id = $1", uuid.UUID(held["id"])
            )
            if status == "expired":
                break
            await asyncio.sleep(0.1)
        assert status == "expired"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0  # a clean stop on SIGTERM


async def test_a_suspended_doctors_future_bookings_are_flagged_and_patients_told(
    app: Litestar, operator: Account
) -> None:
    from medmarket.tests.support.payments import deliver_outbox

    doctor = await approved_doctor(app)
    patient, other = await ready_patient(app), await ready_patient(app)
    async with client_for(app) as http:
        slots = await free_slots(http, doctor.id)
        confirmed = await hold(http, patient, slots[0]["id"])
        await pay(app, patient, confirmed["id"])
        held = await hold(http, other, slots[1]["id"])
        await expect(
            http.post(
                f"/api/onboarding/doctors/{doctor.id}/suspend",
                headers=operator.headers,
                json={"reason": "执业证书到期"},
            )
        )
        await deliver_outbox(app)
        await deliver_outbox(app)  # at least once: a second delivery changes nothing
        for account, booking in ((patient, confirmed), (other, held)):
            seen = await expect(http.get(f"/api/bookings/{booking['id']}", headers=account.headers))
            assert seen["flagged_reason"] == "doctor_suspended:operator_decision"
            told = await app.state.services.db.fetchval(
                "SELECT count(*) FROM outbox WHERE topic = 'notification.send' "
                "AND payload->>'template' = 'booking.doctor_suspended' "
                "AND payload->'recipient'->>'user_id' = $1",
                account.account.id,
            )
            assert told == 1
        # The held booking can no longer be paid for.
        refused = await http.post(
            "/api/payments",
            headers=other.headers,
            json={"purpose": "booking", "subject_id": held["id"]},
        )
        assert refused.status_code == 409
        # Nobody can take another of the suspended doctor's times, nor see them offered.
        assert await free_slots(http, doctor.id) == []
        newcomer = await ready_patient(app)
        taken = await http.post(
            "/api/bookings",
            headers=newcomer.headers,
            json={"slot_id": slots[2]["id"], "patient_id": newcomer.id, "prior_diagnosis": PRIOR},
        )
        assert taken.status_code == 404 and taken.json()["errors"][0]["field"] == "slot_id"


async def test_the_times_of_a_hospital_no_longer_active_are_not_offered(app: Litestar) -> None:
    doctor = await approved_doctor(app)
    async with client_for(app) as http:
        assert await free_slots(http, doctor.id)
        await app.state.services.db.execute(
            "UPDATE hospitals SET status = 'suspended' "
            "WHERE id = (SELECT hospital_id FROM doctors WHERE id = $1)",
            uuid.UUID(doctor.id),
        )
        assert await free_slots(http, doctor.id) == []
