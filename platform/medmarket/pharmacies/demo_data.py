"""Demo pharmacies: the demo partner hospital's own pharmacy, where the demo pharmacist works,
and an independent pharmacy in the same city, registered by the demo operator through the
service (so audited as an operator's would be).

Both sell the common chronic drugs (amlodipine, metformin, insulin, statins...) and the
antibiotics and analgesics doctors prescribe after a consultation, by the unit and by the
box; the hospital's pharmacy delivers to the whole of 杭州市, the independent one to two
districts.

Idempotent: a pharmacy found by its name, a pharmacist who works in a pharmacy, and a
pharmacy that already sells something or delivers somewhere are left as they are, so a
second run changes nothing.
"""

from __future__ import annotations

import decimal
import uuid

from medmarket.accounts.acting import context_of, principal_of
from medmarket.accounts.service import Principal
from medmarket.drugs.seed import seed_id
from medmarket.pharmacies.members import PharmacyMembers
from medmarket.pharmacies.schemas import (
    DeliveryArea,
    OpeningWindow,
    PharmacistIn,
    PharmacyIn,
    StockLineIn,
    StockUnit,
)
from medmarket.pharmacies.service import PharmacyService
from medmarket.pharmacies.stock import StockService
from medmarket.services import Services


def _week(opens: str, closes: str, days: range = range(1, 8)) -> list[OpeningWindow]:
    return [OpeningWindow(weekday=day, opens=opens, closes=closes) for day in days]


INDEPENDENT = PharmacyIn(
    name_zh="示范大药房（文三路店）",
    name_en="Demo Pharmacy (Wensan Road)",
    kind="independent",
    licence_number="浙CB5710001",
    province="浙江省",
    city="杭州市",
    district="西湖区",
    address="文三路 100 号",
    phone="0571-8888 0001",
    opening_hours=_week("08:00", "22:00"),
    reviews_prescriptions=True,
    dispenses=True,
)
HOSPITAL_PHARMACY_NAME = ("{hospital}药房", "{hospital_en} Pharmacy")
PHARMACIST_LICENCE = "ZY3301202600001"
# Seed drug key, the unit it is counted in, its price per unit and per box (fen), units a box.
DEMO_STOCK: tuple[tuple[str, StockUnit, int, int], ...] = (
    ("amlodipine-tab-5mg", "tablet", 90, 28),
    ("nifedipine-crt-30mg", "tablet", 220, 7),
    ("losartan-tab-50mg", "tablet", 150, 7),
    ("metoprolol-srt-47.5mg", "tablet", 180, 7),
    ("atorvastatin-tab-20mg", "tablet", 120, 7),
    ("aspirin-ect-100mg", "tablet", 50, 30),
    ("metformin-tab-0.5g", "tablet", 25, 48),
    ("metformin-srt-0.5g", "tablet", 45, 30),
    ("levothyroxine-tab-50ug", "tablet", 30, 100),
    ("omeprazole-ecc-20mg", "capsule", 60, 14),
    ("amoxicillin-cap-0.5g", "capsule", 40, 24),
    ("cefuroxime-tab-0.25g", "tablet", 180, 12),
    ("azithromycin-tab-0.25g", "tablet", 260, 6),
    ("ibuprofen-src-0.3g", "capsule", 70, 20),
    ("paracetamol-tab-0.5g", "tablet", 20, 20),
    ("loratadine-tab-10mg", "tablet", 110, 6),
)
# Insulin pens and vials, by the box (5 pens) and by the vial or pen.
DEMO_INSULIN = (
    ("insulin-glargine-inj-100iu-ml", 3980),
    ("insulin-aspart-inj-100iu-ml", 3850),
    ("insulin-human-inj-100iu-ml", 2600),
    ("insulin-biphasic-30-inj-100iu-ml", 2800),
)
HANGZHOU = ("浙江省", "杭州市")
INDEPENDENT_AREAS = ("西湖区", "拱墅区")


def demo_stock(on_hand: int, dearer_by_percent: int = 0) -> list[StockLineIn]:
    """The demo list: each drug by its unit and by the box."""

    def price(fen: int) -> int:
        return fen * (100 + dearer_by_percent) // 100

    lines = []
    for key, unit, fen, per_box in DEMO_STOCK:
        drug_id = seed_id(key)
        lines.append(
            StockLineIn(
                drug_id=drug_id,
                unit=unit,
                price_fen=price(fen),
                on_hand=decimal.Decimal(on_hand * per_box),
            )
        )
        lines.append(
            StockLineIn(
                drug_id=drug_id,
                unit="box",
                price_fen=price(fen * per_box),
                on_hand=decimal.Decimal(on_hand),
            )
        )
    for key, fen in DEMO_INSULIN:
        drug_id = seed_id(key)
        lines.append(
            StockLineIn(
                drug_id=drug_id,
                unit="box",
                price_fen=price(fen * 5),
                on_hand=decimal.Decimal(on_hand // 4),
            )
        )
        lines.append(
            StockLineIn(
                drug_id=drug_id, unit="vial", price_fen=price(fen), on_hand=decimal.Decimal(on_hand)
            )
        )
    return lines


async def _stock_once(
    services: Services,
    operator: Principal,
    pharmacy_id: uuid.UUID,
    stock: list[StockLineIn],
    areas: list[DeliveryArea],
) -> None:
    """Stock and delivery areas of a pharmacy that has neither yet."""
    db = services.db
    selling = await db.fetchval(
        "SELECT 1 FROM pharmacy_stock WHERE pharmacy_id = $1 LIMIT 1", pharmacy_id
    )
    delivering = await db.fetchval(
        "SELECT 1 FROM pharmacy_delivery_areas WHERE pharmacy_id = $1 LIMIT 1", pharmacy_id
    )
    service = StockService(db)
    if not selling:
        await service.sync(operator, pharmacy_id, stock, context_of(operator))
    if not delivering:
        await service.replace_delivery_areas(operator, pharmacy_id, areas, context_of(operator))


async def _ensure(
    pharmacies: PharmacyService, operator: Principal, pharmacy: PharmacyIn
) -> uuid.UUID:
    """The open pharmacy of this name, registered first if there is none."""
    found: uuid.UUID | None = await pharmacies.db.fetchval(
        "SELECT id FROM pharmacies WHERE name_zh = $1 AND closed_at IS NULL", pharmacy.name_zh
    )
    if found is None:
        found = (await pharmacies.create(operator, pharmacy, context_of(operator))).id
    return found


async def seed_demo_pharmacies(
    services: Services, operator_email: str, pharmacist_email: str, hospital_name: str
) -> None:
    """The independent pharmacy; and, when the demo hospital ``hospital_name`` is there,
    its own pharmacy with the demo pharmacist in it."""
    operator = await principal_of(services.db, operator_email)
    assert operator is not None, "the demo operator is made first"
    pharmacies = PharmacyService(services.db)
    independent = await _ensure(pharmacies, operator, INDEPENDENT)
    await _stock_once(
        services,
        operator,
        independent,
        demo_stock(on_hand=40, dearer_by_percent=8),
        [
            DeliveryArea(province=HANGZHOU[0], city=HANGZHOU[1], district=d)
            for d in INDEPENDENT_AREAS
        ],
    )
    hospital = await services.db.fetchrow(
        "SELECT id, name, name_en FROM hospitals WHERE name = $1", hospital_name
    )
    if hospital is None:
        print("demo hospital pharmacy skipped: the demo hospitals are not there")
        return
    pharmacy_id = await _ensure(
        pharmacies,
        operator,
        PharmacyIn(
            name_zh=HOSPITAL_PHARMACY_NAME[0].format(hospital=hospital["name"]),
            name_en=HOSPITAL_PHARMACY_NAME[1].format(hospital_en=hospital["name_en"]),
            kind="hospital",
            hospital_id=hospital["id"],
            province="浙江省",
            city="杭州市",
            district="上城区",
            address="解放路 88 号 门诊楼一楼",
            phone="0571-8888 0002",
            opening_hours=[
                *_week("08:00", "17:30", range(1, 6)),
                *_week("08:00", "12:00", range(6, 8)),
            ],
            reviews_prescriptions=True,
            dispenses=True,
        ),
    )
    await _stock_once(
        services,
        operator,
        pharmacy_id,
        demo_stock(on_hand=200),
        [DeliveryArea(province=HANGZHOU[0], city=HANGZHOU[1], district=None)],
    )
    pharmacist = await principal_of(services.db, pharmacist_email)
    members = PharmacyMembers(services.db)
    if pharmacist is None or await members.mine(pharmacist) is not None:
        return
    await members.add(
        operator,
        pharmacy_id,
        PharmacistIn(email=pharmacist_email, licence_number=PHARMACIST_LICENCE),
        context_of(operator),
    )
