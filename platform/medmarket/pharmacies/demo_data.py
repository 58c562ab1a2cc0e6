"""Demo pharmacies: the demo partner hospital's own pharmacy, where the demo pharmacist works,
and an independent pharmacy in the same city, registered by the demo operator through the
service (so audited as an operator's would be).

Idempotent: a pharmacy found by its name, and a pharmacist who works in a pharmacy, are left
as they are, so a second run changes nothing.
"""

from __future__ import annotations

import uuid

from medmarket.accounts.acting import context_of, principal_of
from medmarket.accounts.service import Principal
from medmarket.pharmacies.members import PharmacyMembers
from medmarket.pharmacies.schemas import OpeningWindow, PharmacistIn, PharmacyIn
from medmarket.pharmacies.service import PharmacyService
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
    await _ensure(pharmacies, operator, INDEPENDENT)
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
