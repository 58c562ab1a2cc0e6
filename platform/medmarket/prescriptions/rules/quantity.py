"""Whether an item's quantity matches its dose, frequency and days.

The quantity can be computed when it is counted in the drug's own units (tablets of a
tablet, capsules of a capsule; sachets of granules or powder, suppositories, patches) and
the dose is either a count of those units or an amount of the substance in the strength's
unit or one convertible to it (g, mg, μg; IU to IU, U to U). A combination's strength
("500/125") is that of its first ingredient, as its name lists them. Then, in exact
fractions::

    units a dose = dose ÷ strength        (or the dose itself, when counted)
    needed       = units a dose × doses    (dosing.doses: frequency over the supply's days)

and the quantity must cover ``needed`` (less is an error) and not go beyond ``needed``
rounded up to whole units (more is a warning: the doctor may have a reason, a whole pack
say). A counted quantity is a whole number.

``prn`` has no quantity a patient must take: a quantity beyond what ``PRN_MOST_A_DAY``
doses a day need is pointed out (info), never an error. When the quantity cannot be
computed (packs, bottles, tubes, a volume or weight, a dose in puffs or drops) the item has
an info that the platform did not check it, and nothing more.

A dose or count unit that is not the drug's own (capsules of a tablet) is an error: no
pharmacy can hand it over. A dose or quantity that is not a positive number is an error on
its field.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

from medmarket.prescriptions.interface import (
    DraftPrescription,
    DrugFacts,
    Finding,
    ItemDraft,
    Limits,
    PatientFacts,
    Severity,
)
from medmarket.prescriptions.rules.dosing import PRN_MOST_A_DAY, doses, supply_days
from medmarket.prescriptions.rules.wording import (
    FREQUENCY_EN,
    FREQUENCY_ZH,
    amount_en,
    amount_zh,
    days_en,
    drug_en,
    drug_zh,
    item_field,
    unit_zh,
    units_en,
)

# The unit each dosage form is counted in, when it is counted one by one.
FORM_UNITS = {
    **dict.fromkeys(
        (
            "tablet",
            "enteric_coated_tablet",
            "sustained_release_tablet",
            "controlled_release_tablet",
            "dispersible_tablet",
            "chewable_tablet",
            "sublingual_tablet",
            "effervescent_tablet",
            "vaginal_tablet",
        ),
        "tablet",
    ),
    **dict.fromkeys(("capsule", "enteric_coated_capsule", "sustained_release_capsule"), "capsule"),
    "granules": "sachet",
    "powder": "sachet",
    "suppository": "suppository",
    "transdermal_patch": "patch",
}
COUNTED = frozenset(FORM_UNITS.values())
# Amounts of a substance, in a unit of their own kind: mass in milligrams, and the units of
# biological activity, which convert to nothing else.
_AMOUNTS: dict[str, tuple[str, Fraction]] = {
    "g": ("mass", Fraction(1000)),
    "mg": ("mass", Fraction(1)),
    "μg": ("mass", Fraction(1, 1000)),
    "IU": ("IU", Fraction(1)),
    "U": ("U", Fraction(1)),
}
_STRENGTH = re.compile(r"\A([0-9]+(?:\.[0-9]+)?)(?:/[0-9]+(?:\.[0-9]+)?)*\Z")
RULE = "quantity"


def strength_per_unit(drug: DrugFacts) -> tuple[Fraction, str] | None:
    """The first ingredient's amount in one unit of the drug, with its unit; None for a
    concentration (mg/mL, %) or a strength that is not a number."""
    unit = unicodedata.normalize("NFKC", drug.unit)
    found = _STRENGTH.fullmatch(drug.strength.strip())
    if unit not in _AMOUNTS or found is None:
        return None
    amount = Fraction(Decimal(found[1]))
    return (amount, unit) if amount > 0 else None


def units_a_dose(item: ItemDraft) -> Fraction | None:
    """How many of the drug's units one dose is, or None when that cannot be known."""
    form_unit = FORM_UNITS.get(item.drug.dosage_form)
    if form_unit is None or item.quantity_unit != form_unit:
        return None
    if item.dose_unit == form_unit:
        return Fraction(item.dose)
    strength = strength_per_unit(item.drug)
    if strength is None or item.dose_unit not in _AMOUNTS:
        return None
    amount, unit = strength
    (dose_kind, dose_scale), (kind, scale) = _AMOUNTS[item.dose_unit], _AMOUNTS[unit]
    if dose_kind != kind:
        return None
    return Fraction(item.dose) * dose_scale / scale / amount


def _finding(index: int, field: str, severity: Severity, zh: str, en: str) -> Finding:
    return Finding(
        rule=RULE,
        severity=severity,
        message_zh=zh,
        message_en=en,
        item=index,
        field=item_field(index, field),
    )


def _not_positive(index: int, item: ItemDraft) -> Finding | None:
    for field, value, zh, en in (
        ("dose", item.dose, "每次剂量", "dose"),
        ("quantity", item.quantity, "数量", "quantity"),
    ):
        if not value.is_finite() or value <= 0:
            return _finding(
                index,
                field,
                "error",
                f"{drug_zh(item.drug)}的{zh}应为大于 0 的数字。",
                f"The {en} of {drug_en(item.drug)} must be a number greater than 0.",
            )
    return None


def _foreign_unit(index: int, item: ItemDraft) -> Finding | None:
    form_unit = FORM_UNITS.get(item.drug.dosage_form)
    for field, unit, zh, en in (
        ("dose_unit", item.dose_unit, "剂量", "dose"),
        ("quantity_unit", item.quantity_unit, "数量", "quantity"),
    ):
        if unit in COUNTED and unit != form_unit:
            own_zh = f"“{unit_zh(form_unit)}”" if form_unit else "该剂型的单位"
            own_en = units_en(form_unit) if form_unit else "the units of its dosage form"
            return _finding(
                index,
                field,
                "error",
                f"{drug_zh(item.drug)}不以“{unit_zh(unit)}”计；{zh}请按{own_zh}填写。",
                f"{drug_en(item.drug)} does not come in {units_en(unit)}; write the {en} "
                f"in {own_en}.",
            )
    return None


def _course_zh(item: ItemDraft, days: int) -> str:
    dose = amount_zh(item.dose, item.dose_unit)
    if item.frequency == "once":
        return f"单次 {dose}"
    return f"每次 {dose}、{FREQUENCY_ZH[item.frequency]}、共 {days} 天"


def _course_en(item: ItemDraft, days: int) -> str:
    dose = amount_en(item.dose, item.dose_unit)
    if item.frequency == "once":
        return f"a single dose of {dose}"
    return f"{dose} {FREQUENCY_EN[item.frequency]} for {days_en(days)}"


def _check_item(index: int, item: ItemDraft) -> Finding | None:
    problem = _not_positive(index, item) or _foreign_unit(index, item)
    if problem is not None:
        return problem
    days = supply_days(item)
    if days < 1:
        return None  # the supply rule says so
    unit = item.quantity_unit
    drug_z, drug_e = drug_zh(item.drug), drug_en(item.drug)
    per_dose = units_a_dose(item)
    if per_dose is None:
        return _finding(
            index,
            "quantity",
            "info",
            f"{drug_z}的数量为 {amount_zh(item.quantity, unit)}，平台无法据剂量和疗程核对；"
            "请确认数量够用且不过量。",
            f"The quantity of {drug_e}, {amount_en(item.quantity, unit)}, cannot be checked "
            "against its dose and duration; make sure it covers the course and no more.",
        )
    quantity = Fraction(item.quantity)
    if unit in COUNTED and quantity.denominator != 1:
        return _finding(
            index,
            "quantity",
            "error",
            f"{drug_z}的数量 {amount_zh(item.quantity, unit)} 不是整数；"
            f"请按整{unit_zh(unit)}填写。",
            f"The quantity of {drug_e}, {amount_en(item.quantity, unit)}, is not a whole "
            f"number; write whole {units_en(unit)}.",
        )
    if item.frequency == "prn":
        most = math.ceil(per_dose * doses("prn", days))
        if quantity <= most:
            return None
        return _finding(
            index,
            "quantity",
            "info",
            f"{drug_z}必要时服用，即使每日 {PRN_MOST_A_DAY} 次、共 {days} 天也只需 "
            f"{amount_zh(most, unit)}，处方数量为 {amount_zh(item.quantity, unit)}；"
            "请在用法中写明每日最多用几次，或减少数量。",
            f"{drug_e} is as needed: even {PRN_MOST_A_DAY} times a day for {days_en(days)} "
            f"needs {amount_en(most, unit)}, and the quantity is "
            f"{amount_en(item.quantity, unit)}. Write the most a day in the instructions, or "
            "lower the quantity.",
        )
    needed = per_dose * doses(item.frequency, days)
    whole = math.ceil(needed)
    course_z, course_e = _course_zh(item, days), _course_en(item, days)
    if quantity < needed:
        return _finding(
            index,
            "quantity",
            "error",
            f"{drug_z}{course_z}需 {amount_zh(whole, unit)}，处方数量 "
            f"{amount_zh(item.quantity, unit)}不够；请把数量改为 {amount_zh(whole, unit)}，"
            "或缩短疗程。",
            f"{drug_e}, {course_e}, needs {amount_en(whole, unit)}; "
            f"{amount_en(item.quantity, unit)} is not enough. Raise the quantity to "
            f"{amount_en(whole, unit)}, or shorten the duration.",
        )
    if quantity > whole:
        return _finding(
            index,
            "quantity",
            "warning",
            f"{drug_z}{course_z}需 {amount_zh(whole, unit)}，处方数量 "
            f"{amount_zh(item.quantity, unit)}多于所需；请改为 {amount_zh(whole, unit)}，"
            "或说明理由（例如按整盒发药）。",
            f"{drug_e}, {course_e}, needs {amount_en(whole, unit)}; "
            f"{amount_en(item.quantity, unit)} is more. Lower the quantity to "
            f"{amount_en(whole, unit)}, or give the reason (a whole pack, say).",
        )
    return None


def quantity(draft: DraftPrescription, patient: PatientFacts, limits: Limits) -> Iterator[Finding]:
    """At most one finding an item: its numbers, its units, then the quantity's match."""
    for index, item in enumerate(draft.items):
        finding = _check_item(index, item)
        if finding is not None:
            yield finding
