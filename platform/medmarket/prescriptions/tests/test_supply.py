"""Supply: every item within the limit gives nothing, every item over it exactly one error on
its ``duration_days``; the chronic limit only for chronic follow-up with a chronic condition
on record; a single dose is one day; and the doses a frequency gives over its days."""

from __future__ import annotations

import math
from fractions import Fraction

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from medmarket.prescriptions.interface import (
    DraftPrescription,
    Frequency,
    Limits,
    PatientFacts,
)
from medmarket.prescriptions.rules.dosing import DOSES_A_DAY, doses, supply_days
from medmarket.prescriptions.rules.supply import chronic_follow_up, supply_limit
from medmarket.prescriptions.tests.strategies import (
    FREQUENCIES,
    draft_of,
    drafts,
    item_of,
    items,
    limits,
    patient_of,
    patients,
)


def allowed_days(draft: DraftPrescription, patient: PatientFacts, allowed: Limits) -> int:
    chronic = draft.chronic_follow_up and any(c.strip() for c in patient.chronic_conditions)
    return allowed.chronic_days if chronic else allowed.acute_days


@given(
    draft=drafts(item=items(duration_days=st.integers(1, 120))),
    patient=patients(),
    allowed=limits(),
)
def test_each_item_over_the_limit_is_exactly_one_error_and_within_it_none(
    draft: DraftPrescription, patient: PatientFacts, allowed: Limits
) -> None:
    findings = list(supply_limit(draft, patient, allowed))
    limit = allowed_days(draft, patient, allowed)
    over = [i for i, item in enumerate(draft.items) if supply_days(item) > limit]
    assert [finding.item for finding in findings] == over
    for finding in findings:
        assert finding.severity == "error"
        assert finding.field == f"items[{finding.item}].duration_days"
        assert f"不超过 {limit} 天" in finding.message_zh
        assert f"at most {limit} day" in finding.message_en


@given(
    patient=patients(),
    allowed=limits(),
    days=st.integers(1, 120),
    chronic=st.booleans(),
    frequency=st.sampled_from(FREQUENCIES),
)
def test_the_boundary_is_the_limit_itself(
    patient: PatientFacts, allowed: Limits, days: int, chronic: bool, frequency: Frequency
) -> None:
    draft = draft_of(chronic_follow_up=chronic)
    limit = allowed_days(draft, patient, allowed)
    at = draft_of(
        item_of("amlodipine", duration_days=limit, frequency=frequency), chronic_follow_up=chronic
    )
    over = draft_of(
        item_of("amlodipine", duration_days=limit + 1, frequency=frequency),
        chronic_follow_up=chronic,
    )
    assert list(supply_limit(at, patient, allowed)) == []
    assert len(list(supply_limit(over, patient, allowed))) == (frequency != "once")


@given(days=st.integers(-5, 10_000), patient=patients(), allowed=limits())
def test_a_single_dose_is_one_day_whatever_its_duration(
    days: int, patient: PatientFacts, allowed: Limits
) -> None:
    draft = draft_of(item_of("paracetamol", frequency="once", duration_days=days))
    assert list(supply_limit(draft, patient, allowed)) == []


@given(days=st.integers(-30, 0), allowed=limits())
def test_less_than_a_day_is_an_error(days: int, allowed: Limits) -> None:
    [finding] = supply_limit(
        draft_of(item_of("amlodipine", duration_days=days)), patient_of(), allowed
    )
    assert finding.field == "items[0].duration_days"
    assert "至少 1 天" in finding.message_zh


@given(draft=drafts(), patient=patients(), allowed=limits())
def test_chronic_follow_up_needs_a_chronic_condition_on_record(
    draft: DraftPrescription, patient: PatientFacts, allowed: Limits
) -> None:
    findings = list(chronic_follow_up(draft, patient, allowed))
    on_record = any(condition.strip() for condition in patient.chronic_conditions)
    assert len(findings) == (draft.chronic_follow_up and not on_record)
    for finding in findings:
        assert (finding.severity, finding.field, finding.item) == (
            "error",
            "chronic_follow_up",
            None,
        )


def test_examples_of_the_default_limits() -> None:
    hypertensive = patient_of(chronic_conditions=("高血压",))
    month = item_of("amlodipine", frequency="qd", duration_days=28, quantity=28)
    assert list(supply_limit(draft_of(month, chronic_follow_up=True), hypertensive, Limits())) == []
    [finding] = supply_limit(draft_of(month), hypertensive, Limits())
    assert finding.message_zh == (
        "氨氯地平（5 mg）开具 28 天，超过普通处方最多 7 天的用量；请把疗程改为不超过 7 天。"
        "如为患者已记录慢性病的复诊，请勾选“慢性病复诊”（最多 28 天）。"
    )
    assert finding.message_en == (
        "amlodipine 5 mg is for 28 days, more than the 7 days a prescription may supply; "
        "shorten it to at most 7 days. If this is follow-up of the chronic condition on the "
        "patient's record, mark it as chronic follow-up (up to 28 days)."
    )
    nothing_on_record = patient_of(chronic_conditions=(" ",))
    draft = draft_of(month, chronic_follow_up=True)
    [missing] = chronic_follow_up(draft, nothing_on_record, Limits())
    assert "没有慢性病记录" in missing.message_zh
    assert "holds no chronic condition" in missing.message_en
    assert [f.field for f in supply_limit(draft, nothing_on_record, Limits())] == [
        "items[0].duration_days"
    ]
    long = msgspec.structs.replace(month, duration_days=84)
    assert (
        len(list(supply_limit(draft_of(long, chronic_follow_up=True), hypertensive, Limits()))) == 1
    )
    assert (
        list(
            supply_limit(
                draft_of(long, chronic_follow_up=True), hypertensive, Limits(chronic_days=84)
            )
        )
        == []
    )


@given(frequency=st.sampled_from(FREQUENCIES), days=st.integers(0, 400))
def test_doses_over_days_count_the_first_day(frequency: Frequency, days: int) -> None:
    if frequency == "once":
        assert doses(frequency, days) == 1
        return
    per_day = Fraction(4) if frequency == "prn" else DOSES_A_DAY[frequency]
    given_doses = doses(frequency, days)
    assert given_doses == math.ceil(per_day * days)
    if per_day < 1 and days:
        interval = int(1 / per_day)
        # Day 1, then every ``interval`` days, within the days.
        assert given_doses == len(range(1, days + 1, interval))


def test_doses_of_each_frequency_over_a_week() -> None:
    week = {frequency: doses(frequency, 7) for frequency in FREQUENCIES}
    assert week == {
        "qd": 7,
        "bid": 14,
        "tid": 21,
        "qid": 28,
        "q6h": 28,
        "q8h": 21,
        "q12h": 14,
        "qn": 7,
        "qod": 4,
        "qw": 1,
        "prn": 28,
        "once": 1,
    }
