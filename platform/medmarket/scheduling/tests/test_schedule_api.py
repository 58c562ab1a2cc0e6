"""Doctors set prices and availability, publish slots; publishing is idempotent and never
touches a held or booked slot."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Litestar

from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import approved_doctor, expect, free_slots, hold, ready_patient

MORNINGS = [{"weekday": d, "starts_at": "09:00", "ends_at": "12:00"} for d in range(1, 8)]


async def test_publishing_twice_adds_nothing_and_follows_availability_changes(
    app: Litestar,
) -> None:
    doctor = await approved_doctor(app, weekly=MORNINGS, publish_days=None, slot_minutes=30)
    async with client_for(app) as http:
        first = await expect(
            http.post("/api/doctor/slots/publish", headers=doctor.headers, json={"days": 7})
        )
        assert first["added"] > 0 and first["withdrawn"] == 0
        again = await expect(
            http.post("/api/doctor/slots/publish", headers=doctor.headers, json={"days": 7})
        )
        assert again["added"] == 0 and again["withdrawn"] == 0
        slots = await free_slots(http, doctor.id, after=dt.timedelta(0))
        local = [
            dt.datetime.fromisoformat(s["starts_at"]).astimezone(dt.timezone(dt.timedelta(hours=8)))
            for s in slots
        ]
        assert all(dt.time(9) <= t.time() < dt.time(12) for t in local)
        # Book one, then shrink the mornings: the booked slot stays, the others go.
        patient = await ready_patient(app)
        booked = slots[-1]
        await hold(http, patient, booked["id"])
        await expect(
            http.put(
                "/api/doctor/availability",
                headers=doctor.headers,
                json={
                    "time_zone": "Asia/Shanghai",
                    "weekly": [
                        {"weekday": d, "starts_at": "09:00", "ends_at": "10:00"}
                        for d in range(1, 8)
                    ],
                },
            )
        )
        shrunk = await expect(
            http.post("/api/doctor/slots/publish", headers=doctor.headers, json={"days": 7})
        )
        assert shrunk["withdrawn"] > 0
        state = await app.state.services.db.fetchval(
            "SELECT state FROM slots WHERE id = $1", uuid.UUID(booked["id"])
        )
        assert state == "held"
        remaining = await free_slots(http, doctor.id, after=dt.timedelta(0))
        assert all(
            dt.datetime.fromisoformat(s["starts_at"])
            .astimezone(dt.timezone(dt.timedelta(hours=8)))
            .time()
            < dt.time(10)
            for s in remaining
        )


async def test_availability_is_validated_with_the_field_named(app: Litestar) -> None:
    doctor = await approved_doctor(app, publish_days=None)
    async with client_for(app) as http:
        for body, field in [
            ({"time_zone": "Mars/Olympus", "weekly": []}, "time_zone"),
            (
                {
                    "time_zone": "UTC",
                    "weekly": [{"weekday": 8, "starts_at": "09:00", "ends_at": "10:00"}],
                },
                "weekly[0].weekday",
            ),
            (
                {
                    "time_zone": "UTC",
                    "weekly": [{"weekday": 1, "starts_at": "9am", "ends_at": "10:00"}],
                },
                "weekly[0].starts_at",
            ),
            (
                {
                    "time_zone": "UTC",
                    "weekly": [{"weekday": 1, "starts_at": "10:00", "ends_at": "09:00"}],
                },
                "weekly[0]",
            ),
            (
                {
                    "time_zone": "UTC",
                    "weekly": [],
                    "exceptions": [{"on_date": "2026-12-01", "kind": "extra"}],
                },
                "exceptions[0]",
            ),
        ]:
            response = await http.put("/api/doctor/availability", headers=doctor.headers, json=body)
            assert response.status_code in (400, 422), body
            assert response.json()["errors"][0]["field"] == field, response.text
        price = await http.put(
            "/api/doctor/offerings/video",
            headers=doctor.headers,
            json={"price_fen": 5, "slot_minutes": 30},
        )
        assert price.json()["errors"][0]["field"] == "price_fen"
        length = await http.put(
            "/api/doctor/offerings/video",
            headers=doctor.headers,
            json={"price_fen": 5000, "slot_minutes": 7},
        )
        assert length.json()["errors"][0]["field"] == "slot_minutes"


async def test_a_doctor_not_yet_approved_cannot_publish(app: Litestar) -> None:
    doctor = await approved_doctor(app, publish_days=None)
    await app.state.services.db.execute(
        "UPDATE doctors SET status = 'suspended' WHERE id = $1", uuid.UUID(doctor.id)
    )
    async with client_for(app) as http:
        refused = await http.post(
            "/api/doctor/slots/publish", headers=doctor.headers, json={"days": 3}
        )
        assert refused.status_code == 409
        hidden = await http.get(f"/api/doctors/{doctor.id}/slots")
        assert hidden.json() == []


async def test_exceptions_remove_and_add_time(app: Litestar) -> None:
    tomorrow = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(days=1)).date()
    after = tomorrow + dt.timedelta(days=1)
    doctor = await approved_doctor(app, weekly=MORNINGS, publish_days=None)
    async with client_for(app) as http:
        await expect(
            http.put(
                "/api/doctor/availability",
                headers=doctor.headers,
                json={
                    "time_zone": "Asia/Shanghai",
                    "weekly": MORNINGS,
                    "exceptions": [
                        {"on_date": tomorrow.isoformat(), "kind": "unavailable"},
                        {
                            "on_date": after.isoformat(),
                            "kind": "extra",
                            "starts_at": "19:00",
                            "ends_at": "20:00",
                        },
                    ],
                },
            )
        )
        saved = await expect(http.get("/api/doctor/availability", headers=doctor.headers))
        assert saved["exceptions"][0] == {
            "on_date": tomorrow.isoformat(),
            "kind": "unavailable",
            "starts_at": None,
            "ends_at": None,
        }
        await expect(
            http.post("/api/doctor/slots/publish", headers=doctor.headers, json={"days": 4})
        )
        shanghai = dt.timezone(dt.timedelta(hours=8))
        days: dict[dt.date, list[str]] = {}
        for slot in await free_slots(http, doctor.id, after=dt.timedelta(0)):
            local = dt.datetime.fromisoformat(slot["starts_at"]).astimezone(shanghai)
            days.setdefault(local.date(), []).append(local.strftime("%H:%M"))
        assert tomorrow not in days
        assert days[after][-2:] == ["19:00", "19:30"]
