"""Orders as tests need them: a prescription approved by the doctor's hospital's own
pharmacy, which stocks it and delivers in Hangzhou; an address in the patient's book; an
order placed and paid through the API (the gateway is localstripe)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Litestar

from medmarket.drugs.seed import seed_id
from medmarket.prescriptions.tests.helpers import (
    AMLODIPINE,
    METFORMIN,
    Visit,
    call,
    item,
    ok,
    prescribe,
    prescription,
    visit_in_progress,
)
from medmarket.prescriptions.tests.review_helpers import Pharmacy, reviewing_pharmacy
from medmarket.tests.support.payments import deliver_outbox
from medmarket.tests.support.seed import Patient, pay

__all__ = ["AMLODIPINE", "INSULIN", "METFORMIN", "call", "deliver_outbox", "ok"]
DESK = "/api/pharmacy/orders"
AMLODIPINE_FEN = 150  # a tablet
METFORMIN_FEN = 80
INSULIN = str(seed_id("insulin-glargine-inj-100iu-ml"))

HOME = {
    "label": "家",
    "recipient": "王小明",
    "phone": "138 0013 8000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "street": "文三路 478 号 3 幢 201 室",
}


@dataclass
class Approved:
    """An approved prescription of a visit, and the pharmacy that approved it (it also
    dispenses, stocks what was prescribed and delivers in Hangzhou)."""

    visit: Visit
    prescription: dict[str, Any]
    pharmacy: Pharmacy

    @property
    def patient(self) -> Patient:
        return self.visit.patient

    @property
    def id(self) -> str:
        return str(self.prescription["id"])

    @property
    def orders(self) -> str:
        return f"/api/prescriptions/{self.id}/orders"


async def stock(
    app: Litestar,
    pharmacy: Pharmacy,
    drug_id: str,
    price_fen: int,
    on_hand: int = 100,
    *,
    unit: str = "tablet",
) -> None:
    await ok(
        app,
        "PUT",
        f"/api/pharmacies/{pharmacy.id}/stock/{drug_id}/{unit}",
        pharmacy.pharmacist,
        {"price_fen": price_fen, "on_hand": on_hand},
    )


async def delivers_in_hangzhou(app: Litestar, pharmacy: Pharmacy) -> None:
    await ok(
        app,
        "PUT",
        f"/api/pharmacies/{pharmacy.id}/delivery-areas",
        pharmacy.pharmacist,
        [{"province": "浙江省", "city": "杭州市", "district": None}],
    )


async def approved_prescription(
    app: Litestar,
    *items: dict[str, Any],
    stocked: bool = True,
    patient: Patient | None = None,
) -> Approved:
    """Amlodipine (and whatever ``items`` say) prescribed in a visit, approved by the
    doctor's hospital's own pharmacy, which stocks both drugs unless told not to."""
    visit = await visit_in_progress(app, patient=patient)
    pharmacy = await reviewing_pharmacy(app, hospital_id=visit.doctor.hospital_id)
    written = await prescribe(app, visit, prescription(item(), *items))
    await ok(app, "POST", f"/api/review-desk/{written['id']}/approve", pharmacy.pharmacist, {})
    if stocked:
        await stock(app, pharmacy, AMLODIPINE, AMLODIPINE_FEN)
        await stock(app, pharmacy, METFORMIN, METFORMIN_FEN)
    await delivers_in_hangzhou(app, pharmacy)
    return Approved(visit, written, pharmacy)


def insulin() -> dict[str, Any]:
    """Insulin glargine 10 IU at night for a week: one 10 mL vial (1000 IU), kept cold."""
    return item(
        drug_id=INSULIN,
        dose="10",
        dose_unit="IU",
        route="subcutaneous",
        frequency="qn",
        duration_days=7,
        quantity="1",
        quantity_unit="vial",
        instructions="睡前皮下注射",
    )


def with_metformin() -> dict[str, Any]:
    return item(
        drug_id=METFORMIN,
        dose="0.5",
        dose_unit="g",
        frequency="bid",
        quantity="14",
        instructions="餐中服用",
    )


async def address(app: Litestar, patient: Patient, **changes: Any) -> str:
    added = await ok(app, "POST", "/api/me/addresses", patient, {**HOME, **changes})
    return str(added["id"])


async def ordered(
    app: Litestar, approved: Approved, *, fulfilment: str = "pickup", address_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"pharmacy_id": approved.pharmacy.id, "fulfilment": fulfilment}
    if address_id is not None:
        body["address_id"] = address_id
    order: dict[str, Any] = await ok(app, "POST", approved.orders, approved.patient, body)
    return order


async def paid_order(
    app: Litestar, approved: Approved, **choice: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order placed and paid: (the order now, the payment)."""
    order = await ordered(app, approved, **choice)
    payment = await pay(app, approved.patient, order["id"], purpose="pharmacy_order")
    now = await ok(app, "GET", f"/api/orders/{order['id']}", approved.patient)
    return now, payment


async def desk(
    app: Litestar, approved: Approved, order_id: str, step: str, body: Any = None
) -> Any:
    return await ok(app, "POST", f"{DESK}/{order_id}/{step}", approved.pharmacy.pharmacist, body)


async def trail(app: Litestar, order_id: str) -> list[str]:
    """The order's audit events, oldest first."""
    rows = await app.state.services.db.fetch(
        "SELECT action FROM audit_events WHERE subject_type = 'pharmacy_order' "
        "AND subject_id = $1 ORDER BY id",
        order_id,
    )
    return [row["action"] for row in rows]


async def notified(app: Litestar, template: str, user_id: str) -> list[dict[str, Any]]:
    rows = await app.state.services.db.fetch(
        "SELECT payload FROM outbox WHERE topic = 'notification.send' "
        "AND payload->>'template' = $1 AND payload->'recipient'->>'user_id' = $2",
        template,
        user_id,
    )
    return [row["payload"] for row in rows]


async def prescription_status(app: Litestar, approved: Approved) -> str:
    found: str = await app.state.services.db.fetchval(
        "SELECT status FROM prescriptions WHERE id = $1", uuid.UUID(approved.id)
    )
    return found


async def on_hand(app: Litestar, approved: Approved, drug_id: str) -> float:
    found = await app.state.services.db.fetchval(
        "SELECT on_hand FROM pharmacy_stock WHERE pharmacy_id = $1 AND drug_id = $2 "
        "AND unit = 'tablet'",
        uuid.UUID(approved.pharmacy.id),
        uuid.UUID(drug_id),
    )
    return float(found)
