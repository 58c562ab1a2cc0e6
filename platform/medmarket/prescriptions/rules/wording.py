"""How the rules' messages name things, in Chinese and English: the drug, amounts with
their units, how often a dose is taken, and the request field a finding points at."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from medmarket.prescriptions.interface import DrugFacts, Frequency

# The request names an item's drug by its catalog id.
DRUG_FIELD = "drug_id"

FREQUENCY_ZH: dict[Frequency, str] = {
    "qd": "每日 1 次",
    "bid": "每日 2 次",
    "tid": "每日 3 次",
    "qid": "每日 4 次",
    "q6h": "每 6 小时 1 次",
    "q8h": "每 8 小时 1 次",
    "q12h": "每 12 小时 1 次",
    "qn": "每晚 1 次",
    "qod": "隔日 1 次",
    "qw": "每周 1 次",
    "prn": "必要时",
    "once": "单次",
}
FREQUENCY_EN: dict[Frequency, str] = {
    "qd": "once a day",
    "bid": "twice a day",
    "tid": "three times a day",
    "qid": "four times a day",
    "q6h": "every 6 hours",
    "q8h": "every 8 hours",
    "q12h": "every 12 hours",
    "qn": "every night",
    "qod": "every other day",
    "qw": "once a week",
    "prn": "as needed",
    "once": "once",
}
# Counting words for dose and quantity units; amounts (mg, mL) are written as they are.
_UNIT_ZH = {
    "tablet": "片",
    "capsule": "粒",
    "sachet": "袋",
    "suppository": "枚",
    "patch": "贴",
    "puff": "揿",
    "drop": "滴",
    "application": "次",
    "vial": "瓶",
    "ampoule": "支",
    "bottle": "瓶",
    "tube": "支",
    "box": "盒",
    "inhaler": "支",
}
_UNIT_EN = {
    "tablet": ("tablet", "tablets"),
    "capsule": ("capsule", "capsules"),
    "sachet": ("sachet", "sachets"),
    "suppository": ("suppository", "suppositories"),
    "patch": ("patch", "patches"),
    "puff": ("puff", "puffs"),
    "drop": ("drop", "drops"),
    "application": ("application", "applications"),
    "vial": ("vial", "vials"),
    "ampoule": ("ampoule", "ampoules"),
    "bottle": ("bottle", "bottles"),
    "tube": ("tube", "tubes"),
    "box": ("box", "boxes"),
    "inhaler": ("inhaler", "inhalers"),
}


def item_field(index: int, name: str) -> str:
    """The request field of an item: ``items[1].quantity`` (items counted from 0)."""
    return f"items[{index}].{name}"


def drug_zh(drug: DrugFacts) -> str:
    return f"{drug.generic_name_zh}（{drug.strength} {drug.unit}）"


def drug_en(drug: DrugFacts) -> str:
    return f"{drug.generic_name_en} {drug.strength} {drug.unit}"


def number(value: Decimal | Fraction | int) -> str:
    """A number as a doctor writes it: 21, 10.5, 0.25; a fraction that never ends in
    decimals (1/3) to two places."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    value = Fraction(value)
    twos = fives = 0
    rest = value.denominator
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    places = max(twos, fives) if rest == 1 else 2
    scaled = round(value * 10**places)
    whole, part = divmod(abs(scaled), 10**places)
    sign = "-" if scaled < 0 else ""
    text = f"{whole}.{part:0{places}d}".rstrip("0").rstrip(".") if places else str(whole)
    return sign + text


def unit_zh(unit: str) -> str:
    """The counting word of a unit (片, 粒), or the unit as written (mg)."""
    return _UNIT_ZH.get(unit, unit)


def units_en(unit: str) -> str:
    """A unit as a plural (tablets), or as written (mg)."""
    return _UNIT_EN[unit][1] if unit in _UNIT_EN else unit


def amount_zh(value: Decimal | Fraction | int, unit: str) -> str:
    return f"{number(value)} {unit_zh(unit)}"


def amount_en(value: Decimal | Fraction | int, unit: str) -> str:
    if unit not in _UNIT_EN:
        return f"{number(value)} {unit}"
    one, many = _UNIT_EN[unit]
    return f"{number(value)} {one if value == 1 else many}"


def days_en(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"
