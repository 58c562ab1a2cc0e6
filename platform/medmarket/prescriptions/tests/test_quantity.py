"""Quantity against dose × frequency × days: exactly covering (rounded up to whole units) is
no finding, one unit less an error, one more a warning, whichever unit the dose is written
in; what cannot be computed (packs, volumes, as needed) is at most an info."""

from __future__ import annotations

import math
import typing
from decimal import Decimal
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.drugs.schemas import DosageForm
from medmarket.prescriptions.interface import (
    DoseUnit,
    DraftPrescription,
    DrugFacts,
    Frequency,
    Limits,
    QuantityUnit,
)
from medmarket.prescriptions.rules.dosing import doses
from medmarket.prescriptions.rules.quantity import (
    COUNTED,
    FORM_UNITS,
    quantity,
    strength_per_unit,
)
from medmarket.prescriptions.tests.strategies import (
    FREQUENCIES,
    catalog,
    draft_of,
    drafts,
    item_of,
    patient_of,
)

COUNTABLE = [
    drug
    for drug in catalog()
    if drug.dosage_form in FORM_UNITS and strength_per_unit(drug) is not None
]
MILLIGRAMS = {"g": Decimal(1000), "mg": Decimal(1), "μg": Decimal("0.001")}
SCHEDULED = [frequency for frequency in FREQUENCIES if frequency != "prn"]


def test_most_tablets_and_capsules_of_the_catalog_can_be_computed() -> None:
    counted = [drug for drug in catalog() if drug.dosage_form in FORM_UNITS]
    assert len(COUNTABLE) >= 0.9 * len(counted)
    assert any("/" in drug.strength for drug in COUNTABLE)  # combinations, first ingredient


class Course(typing.NamedTuple):
    drug: DrugFacts
    units_a_dose: Fraction
    dose_unit: str
    frequency: Frequency
    days: int


@st.composite
def courses(draw: st.DrawFn) -> Course:
    drug = draw(st.sampled_from(COUNTABLE))
    return Course(
        drug=drug,
        # Quarter tablets to three tablets a dose.
        units_a_dose=Fraction(draw(st.integers(1, 12)), 4),
        dose_unit=draw(st.sampled_from(["count", "g", "mg", "μg"])),
        frequency=draw(st.sampled_from(SCHEDULED)),
        days=draw(st.integers(1, 90)),
    )


def draft_for(course: Course, count: int) -> DraftPrescription:
    """The course as a draft whose quantity is ``count`` units, the dose written in the
    course's dose unit."""
    drug, form_unit = course.drug, FORM_UNITS[course.drug.dosage_form]
    per_unit = strength_per_unit(drug)
    assert per_unit is not None
    amount, unit = per_unit
    units = Decimal(course.units_a_dose.numerator) / Decimal(course.units_a_dose.denominator)
    if course.dose_unit == "count" or unit not in MILLIGRAMS:
        dose, dose_unit = units, form_unit
    else:
        milligrams = units * Decimal(amount.numerator) / amount.denominator * MILLIGRAMS[unit]
        dose, dose_unit = milligrams / MILLIGRAMS[course.dose_unit], course.dose_unit
    item = item_of(
        drug,
        dose=dose,
        dose_unit=dose_unit,
        frequency=course.frequency,
        duration_days=course.days,
        quantity=Decimal(count),
        quantity_unit=form_unit,
    )
    return draft_of(item)


def needed(course: Course) -> int:
    days = 1 if course.frequency == "once" else course.days
    return math.ceil(course.units_a_dose * doses(course.frequency, days))


@given(course=courses())
def test_exactly_covering_is_no_finding(course: Course) -> None:
    assert list(quantity(draft_for(course, needed(course)), patient_of(), Limits())) == []


@given(course=courses())
def test_one_unit_less_is_one_error_on_the_quantity(course: Course) -> None:
    [finding] = quantity(draft_for(course, needed(course) - 1), patient_of(), Limits())
    assert (finding.severity, finding.field, finding.item) == ("error", "items[0].quantity", 0)
    if needed(course) > 1:
        assert f"需 {needed(course)} " in finding.message_zh
        assert course.drug.generic_name_zh in finding.message_zh
        assert f"Raise the quantity to {needed(course)} " in finding.message_en


@given(course=courses(), more=st.integers(1, 100))
def test_more_than_whole_units_need_is_one_warning(course: Course, more: int) -> None:
    [finding] = quantity(draft_for(course, needed(course) + more), patient_of(), Limits())
    assert (finding.severity, finding.field) == ("warning", "items[0].quantity")
    assert "说明理由" in finding.message_zh and "give the reason" in finding.message_en


@given(course=courses(), count=st.integers(0, 400))
def test_the_unit_of_the_dose_does_not_change_the_finding(course: Course, count: int) -> None:
    answers = {
        tuple(
            (f.severity, f.field)
            for f in quantity(
                draft_for(course._replace(dose_unit=unit), count), patient_of(), Limits()
            )
        )
        for unit in ("count", "g", "mg", "μg")
    }
    assert len(answers) == 1


UNCOUNTED = ["vial", "ampoule", "bottle", "tube", "box", "inhaler", "mL", "g"]


@given(
    draft=drafts(),
    quantity_unit=st.sampled_from(UNCOUNTED),
    dose_unit=st.sampled_from(["mg", "g", "μg", "IU", "U", "mL", "puff", "drop", "application"]),
)
def test_what_cannot_be_computed_is_at_most_an_info(
    draft: DraftPrescription, quantity_unit: str, dose_unit: str
) -> None:
    draft = msgspec.structs.replace(
        draft,
        items=tuple(
            msgspec.structs.replace(item, quantity_unit=quantity_unit, dose_unit=dose_unit)
            for item in draft.items
        ),
    )
    findings = list(quantity(draft, patient_of(), Limits()))
    assert {finding.severity for finding in findings} <= {"info"}
    assert [finding.item for finding in findings] == list(range(len(draft.items)))


@given(course=courses(), count=st.integers(1, 1000))
def test_as_needed_is_never_an_error_or_a_warning(course: Course, count: int) -> None:
    draft = draft_for(course._replace(frequency="prn"), count)
    findings = list(quantity(draft, patient_of(), Limits()))
    assert {finding.severity for finding in findings} <= {"info"}
    most = math.ceil(course.units_a_dose * 4 * course.days)
    assert len(findings) == (count > most)


def test_amoxicillin_three_times_a_day_for_a_week() -> None:
    capsules = item_of(
        "amoxicillin", dose=Decimal(500), dose_unit="mg", duration_days=7, quantity=Decimal(28)
    )
    assert capsules.drug.strength == "0.25"
    [short] = quantity(draft_of(capsules), patient_of(), Limits())
    assert short.message_zh == (
        "阿莫西林（0.25 g）每次 500 mg、每日 3 次、共 7 天需 42 粒，处方数量 28 粒不够；"
        "请把数量改为 42 粒，或缩短疗程。"
    )
    assert short.message_en == (
        "amoxicillin 0.25 g, 500 mg three times a day for 7 days, needs 42 capsules; "
        "28 capsules is not enough. Raise the quantity to 42 capsules, or shorten the duration."
    )
    [pack] = quantity(
        draft_of(msgspec.structs.replace(capsules, quantity=Decimal(48))), patient_of(), Limits()
    )
    assert pack.severity == "warning"
    assert "请改为 42 粒，或说明理由（例如按整盒发药）" in pack.message_zh


def test_half_a_tablet_every_other_day_rounds_up_the_whole_course() -> None:
    # 2.5 mg of 5 mg tablets on days 1, 3, 5 and 7: two tablets; one and a half is short.
    half = item_of("amlodipine", dose=Decimal("2.5"), dose_unit="mg", frequency="qod")
    week = msgspec.structs.replace(half, duration_days=7, quantity=Decimal(2))
    assert list(quantity(draft_of(week), patient_of(), Limits())) == []
    nine_days = msgspec.structs.replace(week, duration_days=9)  # five doses: 2.5 tablets
    [short] = quantity(draft_of(nine_days), patient_of(), Limits())
    assert short.severity == "error" and "需 3 片" in short.message_zh
    assert (
        list(
            quantity(
                draft_of(msgspec.structs.replace(nine_days, quantity=Decimal(3))),
                patient_of(),
                Limits(),
            )
        )
        == []
    )


def test_a_combination_is_dosed_by_its_first_ingredient() -> None:
    [amoxiclav] = [drug for drug in catalog() if drug.strength == "500/125"]
    item = item_of(amoxiclav, dose=Decimal(500), dose_unit="mg", frequency="bid", duration_days=7)
    assert (
        list(
            quantity(
                draft_of(msgspec.structs.replace(item, quantity=Decimal(14))),
                patient_of(),
                Limits(),
            )
        )
        == []
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dose": Decimal(0)}, "items[0].dose"),
        ({"dose": Decimal("-1")}, "items[0].dose"),
        ({"dose": Decimal("NaN")}, "items[0].dose"),
        ({"quantity": Decimal(0)}, "items[0].quantity"),
        ({"quantity": Decimal("Infinity")}, "items[0].quantity"),
        ({"quantity": Decimal("20.5")}, "items[0].quantity"),
        ({"dose_unit": "tablet"}, "items[0].dose_unit"),
        ({"quantity_unit": "tablet"}, "items[0].quantity_unit"),
    ],
)
def test_numbers_and_units_a_pharmacy_cannot_hand_over_are_errors(
    changes: dict[str, object], field: str
) -> None:
    item = item_of("amoxicillin", **changes)  # capsules
    [finding] = quantity(draft_of(item), patient_of(), Limits())
    assert (finding.severity, finding.field) == ("error", field)


def test_a_cream_by_the_tube_is_an_info_that_it_was_not_checked() -> None:
    [cream] = [drug for drug in catalog() if drug.dosage_form == "cream"][:1]
    item = item_of(
        cream, dose=Decimal(1), dose_unit="application", quantity=Decimal(1), quantity_unit="tube"
    )
    [finding] = quantity(draft_of(item), patient_of(), Limits())
    assert finding.severity == "info"
    assert "平台无法据剂量和疗程核对" in finding.message_zh


def test_counted_units_are_dose_and_quantity_units_both() -> None:
    assert set(typing.get_args(DoseUnit)) & set(typing.get_args(QuantityUnit)) >= COUNTED
    assert set(FORM_UNITS) <= set(typing.get_args(DosageForm))
