"""Settlements as tests need them: a month with paid visits and a refund."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from medmarket.tests.support.factories import HospitalHandle
from medmarket.tests.support.fixtures import Account, client_for
from medmarket.tests.support.seed import (
    Doctor,
    approved_doctor,
    expect,
    free_slots,
    hold,
    hospital,
    pay,
    ready_patient,
)


async def visits_this_month(app: Litestar, operator: Account) -> dict[str, Any]:
    """A hospital on the default shares (platform 10%, hospital 20%), its doctor at ¥100 a
    visit, two visits paid this month and ¥20 of the first refunded."""
    partner: HospitalHandle = await hospital(app)
    doctor: Doctor = await approved_doctor(
        app, full_name="周 明远", hospital=partner, price_fen=10000, publish_days=2
    )
    patient = await ready_patient(app)
    async with client_for(app) as http:
        slots = await free_slots(http, doctor.id)
        payments = []
        for slot in (slots[-1], slots[-2]):
            booking = await hold(http, patient, slot["id"])
            payments.append(await pay(app, patient, booking["id"]))
        refund = await expect(
            http.post(
                f"/api/payments/{payments[0]['id']}/refunds",
                headers=operator.headers,
                json={"amount": 2000, "reason": "doctor_cancelled"},
            )
        )
        assert refund["status"] == "succeeded", refund
    return {"hospital": partner, "doctor": doctor}
