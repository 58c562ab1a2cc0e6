"""HTTP bodies of the partner-pharmacy API (the migration's checks hold the same rules)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Annotated, Literal

import msgspec

PharmacyKind = Literal["hospital", "independent"]
PharmacyStatus = Literal["open", "closed", "all"]
# Wall-clock time of day in the platform's calendar: "08:30"; a window may close at "24:00".
Opens = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Closes = Annotated[str, msgspec.Meta(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
Licence = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
NameZh = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
NameEn = Annotated[str, msgspec.Meta(max_length=200)]
Place = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class OpeningWindow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One stretch of a weekday the pharmacy is open; a lunch break is two windows."""

    weekday: Annotated[int, msgspec.Meta(ge=1, le=7)]  # ISO: Monday = 1
    opens: Opens
    closes: Closes


OpeningHours = Annotated[list[OpeningWindow], msgspec.Meta(max_length=42)]


class PharmacyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A pharmacy as an operator or its hospital's admin registers it."""

    name_zh: NameZh
    name_en: NameEn | None = None
    kind: PharmacyKind
    # The partner hospital whose own pharmacy this is: required for kind "hospital" only.
    hospital_id: uuid.UUID | None = None
    # 药品经营许可证: required of an independent pharmacy.
    licence_number: Licence | None = None
    province: Place
    city: Place
    district: Place | None = None
    address: Address
    # Written as people do ("0571-8888 1234", "138 0013 8000"); stored in E.164.
    phone: Phone
    opening_hours: OpeningHours = msgspec.field(default_factory=list)
    reviews_prescriptions: bool = False
    dispenses: bool = True


class PharmacyUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields left out keep their value; ``opening_hours`` replaces the whole week. An
    empty ``name_en``, ``district`` or ``licence_number`` clears it. Kind and hospital never
    change (register another pharmacy instead)."""

    name_zh: NameZh | None = None
    name_en: NameEn | None = None
    licence_number: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    province: Place | None = None
    city: Place | None = None
    district: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    address: Address | None = None
    phone: Phone | None = None
    opening_hours: OpeningHours | None = None
    reviews_prescriptions: bool | None = None
    dispenses: bool | None = None


class PharmacyPublic(msgspec.Struct, kw_only=True):
    """What anyone signed in may know of an open pharmacy (what a patient chooses by)."""

    id: uuid.UUID
    name_zh: str
    name_en: str | None
    kind: PharmacyKind
    hospital_id: uuid.UUID | None
    hospital_name: str | None
    # Shown because a pharmacy selling online must show it (药品网络销售监督管理办法).
    licence_number: str | None
    province: str
    city: str
    district: str | None
    address: str
    phone: str
    # Sorted by weekday, then opening time.
    opening_hours: list[OpeningWindow]
    reviews_prescriptions: bool
    dispenses: bool


class PharmacistOut(msgspec.Struct, kw_only=True):
    """A pharmacist's membership of a pharmacy."""

    user_id: uuid.UUID
    email: str
    display_name: str
    # 执业药师注册证号; None until recorded (an invitation does not carry it).
    licence_number: str | None
    joined_at: dt.datetime
    left_at: dt.datetime | None


class PharmacyOut(PharmacyPublic, kw_only=True):
    """A pharmacy as those who manage it see it, with its current pharmacists."""

    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    pharmacists: list[PharmacistOut]


class PharmacistIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An existing pharmacist's account, by its e-mail address, joining the pharmacy."""

    email: Annotated[str, msgspec.Meta(max_length=254)]
    licence_number: Licence | None = None


class PharmacistLicenceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    licence_number: Licence


class MyPharmacy(msgspec.Struct, kw_only=True):
    """The pharmacy a pharmacist works in, and their membership of it."""

    pharmacy: PharmacyPublic
    membership: PharmacistOut


# -- stock, prices and delivery areas (stock.py) ----------------------------------------------
# What a prescription item's quantity counts (migration 0075 checks the same list).
StockUnit = Literal[
    "tablet",
    "capsule",
    "sachet",
    "vial",
    "ampoule",
    "bottle",
    "tube",
    "box",
    "inhaler",
    "patch",
    "suppository",
    "mL",
    "g",
]
PriceFen = Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]


class StockItemIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A price per unit, in fen, and how many units are on hand (up to 4 decimals)."""

    price_fen: PriceFen
    on_hand: decimal.Decimal


class StockLineIn(StockItemIn, kw_only=True, forbid_unknown_fields=True):
    """One line of a pharmacy's whole list (its own system's sync)."""

    drug_id: uuid.UUID
    unit: StockUnit


class StockSyncIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Everything the pharmacy sells: what is left out is kept at on_hand 0."""

    items: Annotated[list[StockLineIn], msgspec.Meta(max_length=5000)]


class StockItemOut(msgspec.Struct, kw_only=True):
    drug_id: uuid.UUID
    generic_name_zh: str
    generic_name_en: str
    dosage_form: str
    strength: str
    strength_unit: str
    cold_chain: bool
    # A retired drug stays listed for the pharmacy to see; it is not offered to patients.
    retired: bool
    unit: StockUnit
    price_fen: int
    on_hand: decimal.Decimal
    updated_at: dt.datetime


class StockSynced(msgspec.Struct, kw_only=True):
    """What a sync did, and the stock after it."""

    created: int
    updated: int
    zeroed: int
    stock: list[StockItemOut]


class DeliveryArea(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A whole city (district None), or one district of it."""

    province: Place
    city: Place
    district: Place | None = None


DeliveryAreas = Annotated[list[DeliveryArea], msgspec.Meta(max_length=200)]
