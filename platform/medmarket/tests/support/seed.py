"""Test data made through the public API, like a real client: a doctor approved by the
onboarding with a schedule and slots, a patient with real-name details and consent."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar

from medmarket.patients.service import CURRENT_POLICY_VERSION
from medmarket.tests.support.factories import HospitalHandle, hospital_with_demo_adapter
from medmarket.tests.support.factories import approved_doctor as onboarded_doctor
from medmarket.tests.support.fixtures import STRONG_PASSWORD, Account, client_for, sign_up_and_in
from medmarket.tests.support.payments import LocalStripe

ALL_DAY = [{"weekday": day, "starts_at": "00:00", "ends_at": "23:30"} for day in range(1, 8)]


@dataclass
class Doctor:
    account: Account
    id: str
    hospital_id: str

    @property
    def headers(self) -> dict[str, str]:
        return self.account.headers


@dataclass
class Patient:
    account: Account
    id: str  # the account holder's patient record

    @property
    def headers(self) -> dict[str, str]:
        return self.account.headers


async def hospital(
    app: Litestar, *, name: str | None = None, region: str = "浙江省杭州市"
) -> HospitalHandle:
    """A partner hospital with the demo adapter, registered and connected as in production."""
    return await hospital_with_demo_adapter(app, name=name, region=region)


async def approved_doctor(
    app: Litestar,
    *,
    full_name: str | None = None,
    specialties: tuple[str, ...] = ("心内科",),
    languages: tuple[str, ...] = ("zh",),
    hospital: HospitalHandle | None = None,
    title: str = "主任医师",
    price_fen: int = 5000,
    slot_minutes: int = 30,
    weekly: list[dict[str, Any]] | None = None,
    time_zone: str = "Asia/Shanghai",
    publish_days: int | None = 3,
    **offering: Any,
) -> Doctor:
    """A doctor approved through the real onboarding, with a price, a weekly schedule and
    (unless ``publish_days`` is None) published slots."""
    onboarded = await onboarded_doctor(
        app,
        full_name=full_name,
        specialties=specialties,
        languages=languages,
        hospital=hospital,
        title=title,
        time_zone=time_zone,
    )
    account = Account(
        id=onboarded.user_id,
        email=onboarded.email,
        role="doctor",
        password=STRONG_PASSWORD,
        token=onboarded.token,
    )
    doctor = Doctor(account=account, id=onboarded.doctor_id, hospital_id=onboarded.hospital_id)
    async with client_for(app) as http:
        await expect(
            http.put(
                "/api/doctor/offerings/video",
                headers=doctor.headers,
                json={"price_fen": price_fen, "slot_minutes": slot_minutes, **offering},
            )
        )
        await expect(
            http.put(
                "/api/doctor/availability",
                headers=doctor.headers,
                json={"time_zone": time_zone, "weekly": weekly or ALL_DAY},
            )
        )
        if publish_days:
            await expect(
                http.post(
                    "/api/doctor/slots/publish", headers=doctor.headers, json={"days": publish_days}
                )
            )
    return doctor


async def ready_patient(
    app: Litestar, *, real_name: str = "王 小明", date_of_birth: str = "1968-04-02"
) -> Patient:
    """A patient account with real-name details and consent to health-data processing."""
    async with client_for(app) as http:
        account = await sign_up_and_in(http, "patient", display_name=real_name)
        me = await expect(
            http.put(
                "/api/patients/me",
                headers=account.headers,
                json={
                    "real_name": real_name,
                    "phone": "13800138000",
                    "date_of_birth": date_of_birth,
                },
            )
        )
        await expect(
            http.post(
                "/api/patients/me/consent",
                headers=account.headers,
                json={"policy_version": CURRENT_POLICY_VERSION, "agree": True},
            )
        )
    return Patient(account=account, id=me["id"])


async def free_slots(
    http: httpx.AsyncClient, doctor_id: str, after: dt.timedelta = dt.timedelta(hours=1)
) -> list[dict[str, Any]]:
    start = (dt.datetime.now(dt.UTC) + after).isoformat()
    response = await http.get(f"/api/doctors/{doctor_id}/slots", params={"from": start})
    assert response.status_code == 200, response.text
    slots: list[dict[str, Any]] = response.json()
    return slots


PRIOR = {
    "institution": "临安区人民医院",
    "diagnosed_on": "2026-05-10",
    "diagnosis": "原发性高血压 2 级",
}


async def expect(request: Any, status: int | None = None) -> Any:
    response = await request
    ok = response.status_code == status if status else response.is_success
    assert ok, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


async def begin_visit(app: Litestar, booking_id: str) -> None:
    """Move a booking (and its slot) so that its visit began five minutes ago: tests do not
    wait for the clock. Free slots of the doctor in the way are withdrawn; the doctor must
    have nothing else booked around now."""
    await move_visit(app, booking_id, -dt.timedelta(minutes=5))


async def move_visit(app: Litestar, booking_id: str, starts_in: dt.timedelta) -> None:
    """Move a booking (and its slot) so that its visit starts ``starts_in`` from now
    (negative: it began that long ago), as ``begin_visit`` does."""
    db = app.state.services.db
    async with db.transaction() as connection:
        booking = await connection.fetchrow(
            "SELECT slot_id, doctor_id, upper(during) - lower(during) AS length "
            "FROM bookings WHERE id = $1",
            uuid.UUID(booking_id),
        )
        start = await connection.fetchval("SELECT now() + $1::interval", starts_in)
        end = start + booking["length"]
        await connection.execute(
            "UPDATE slots SET state = 'withdrawn', held_until = NULL WHERE doctor_id = $1 "
            "AND id <> $2 AND state = 'open' AND tstzrange(starts_at, ends_at) && "
            "tstzrange($3, $4)",
            booking["doctor_id"],
            booking["slot_id"],
            start,
            end,
        )
        await connection.execute(
            "UPDATE slots SET starts_at = $2, ends_at = $3 WHERE id = $1",
            booking["slot_id"],
            start,
            end,
        )
        await connection.execute(
            "UPDATE bookings SET during = tstzrange($2, $3) WHERE id = $1",
            uuid.UUID(booking_id),
            start,
            end,
        )


async def pay(app: Litestar, patient: Patient, booking_id: str) -> dict[str, Any]:
    """Pay for a held booking as the patient's browser does: start a payment, turn a test card
    into a token at the gateway (localstripe), confirm. Returns the payment."""
    gateway = LocalStripe(app.state.settings.stripe_api_base)
    async with client_for(app) as http:
        payment = await expect(
            http.post(
                "/api/payments",
                headers=patient.headers,
                json={"purpose": "booking", "subject_id": booking_id},
            ),
            201,
        )
        paid: dict[str, Any] = await expect(
            http.post(
                f"/api/payments/{payment['id']}/confirm",
                headers=patient.headers,
                json={"payment_method": await gateway.card_token()},
            )
        )
    assert paid["status"] == "succeeded", paid
    return paid


async def hold(http: httpx.AsyncClient, patient: Patient, slot_id: str) -> dict[str, Any]:
    """Hold a slot for the patient's own record, citing the usual earlier diagnosis."""
    body = {"slot_id": slot_id, "patient_id": patient.id, "prior_diagnosis": PRIOR}
    booking: dict[str, Any] = await expect(
        http.post("/api/bookings", headers=patient.headers, json=body), 201
    )
    return booking


async def admit(app: Litestar, patient: Patient, doctor: Doctor, booking_id: str) -> str:
    """The patient enters the waiting room of a paid visit that is about to begin (or just
    began) and the doctor admits them: the visit is in progress. Returns the consultation."""
    async with client_for(app) as http:
        [consultation] = await expect(
            http.get(
                "/api/consultations", params={"booking_id": booking_id}, headers=doctor.headers
            )
        )
        path = f"/api/consultations/{consultation['id']}"
        await expect(http.post(path + "/enter", headers=patient.headers))
        await expect(http.post(path + "/admit", headers=doctor.headers))
    return str(consultation["id"])


async def complete_visit(app: Litestar, patient: Patient, doctor: Doctor, booking_id: str) -> None:
    """A paid visit begun five minutes ago, the patient admitted, ended as completed."""
    await begin_visit(app, booking_id)
    await admit(app, patient, doctor, booking_id)
    async with client_for(app) as http:
        await expect(
            http.post(
                f"/api/doctor/bookings/{booking_id}/outcome",
                headers=doctor.headers,
                json={"outcome": "completed"},
            )
        )
