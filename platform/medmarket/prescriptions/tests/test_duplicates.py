"""Duplicate therapy: a later item of the same kind as an earlier one is one error (a
warning for kinds given together by design), WHO's "other" groups count by substance, and
what the patient already takes of the same kind is a warning (the same substance, a
renewal, an info), however the record spells it."""

from __future__ import annotations

import itertools

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.prescriptions.interface import DrugFacts, Limits
from medmarket.prescriptions.rules.atc_groups import COMBINED_BY_DESIGN, duplicate_group
from medmarket.prescriptions.rules.duplicates import duplicate_therapy
from medmarket.prescriptions.tests.strategies import (
    catalog,
    catalog_drug,
    draft_of,
    item_of,
    ordinary_drugs,
    patient_of,
    respelled,
)


def kind(code: str) -> str:
    """As WHO's groups read: level 4, but the substance in an "other ..." group (X) and
    among antidotes and detoxifying agents."""
    return code if code[4] == "X" or code[:5] in ("V03AB", "V03AF") else code[:5]


@given(st.lists(ordinary_drugs(), max_size=8))
def test_each_later_item_of_a_kind_already_prescribed_is_one_finding(
    drugs: list[DrugFacts],
) -> None:
    findings = list(duplicate_therapy(draft_of(*map(item_of, drugs)), patient_of(), Limits()))
    later = [
        i
        for i, drug in enumerate(drugs)
        if kind(drug.atc_code) in {kind(d.atc_code) for d in drugs[:i]}
    ]
    assert [finding.item for finding in findings] == later
    for finding in findings:
        drug = drugs[finding.item or 0]
        first = next(d for d in drugs if kind(d.atc_code) == kind(drug.atc_code))
        combined = drug.atc_code[:5] in COMBINED_BY_DESIGN and drug.atc_code != first.atc_code
        assert finding.severity == ("warning" if combined else "error")
        assert finding.field == f"items[{finding.item}].drug_id"
        assert drug.generic_name_zh in finding.message_zh
        assert first.generic_name_en in finding.message_en


FAMILIES = [
    (a, b)
    for a, b in itertools.combinations([d for d in catalog() if d.special_class is None], 2)
    if a.atc_code != b.atc_code
    and duplicate_group(a.atc_code) == duplicate_group(b.atc_code)
    and a.atc_code[:5] not in COMBINED_BY_DESIGN
]


def test_the_catalog_has_families_and_other_groups() -> None:
    assert len(FAMILIES) > 50
    others = [d for d in catalog() if d.atc_code[4] == "X"]
    assert {duplicate_group(d.atc_code) for d in others} == {d.atc_code for d in others}


@given(pair=st.sampled_from(FAMILIES), swapped=st.booleans())
def test_two_of_one_family_is_an_error_on_the_second_in_either_order(
    pair: tuple[DrugFacts, DrugFacts], swapped: bool
) -> None:
    first, second = reversed(pair) if swapped else pair
    [finding] = duplicate_therapy(draft_of(item_of(first), item_of(second)), patient_of(), Limits())
    assert (finding.severity, finding.item) == ("error", 1)
    assert f"ATC {first.atc_code[:5]}" in finding.message_zh


@given(pair=st.sampled_from(FAMILIES), data=st.data())
def test_what_the_patient_takes_of_the_family_is_a_warning_however_it_is_spelt(
    pair: tuple[DrugFacts, DrugFacts], data: st.DataObject
) -> None:
    taken, prescribed = pair
    line = data.draw(
        respelled(
            data.draw(st.sampled_from([taken.generic_name_zh, f"{taken.generic_name_en} 1 tab qd"]))
        )
    )
    patient = patient_of(current_medications=(line,), named_drugs=(taken,))
    [finding] = duplicate_therapy(draft_of(item_of(prescribed)), patient, Limits())
    assert (finding.severity, finding.field) == ("warning", "items[0].drug_id")
    assert taken.generic_name_zh in finding.message_zh


@given(drug=ordinary_drugs(), data=st.data())
def test_renewing_what_the_patient_takes_is_an_info(drug: DrugFacts, data: st.DataObject) -> None:
    line = data.draw(respelled(drug.generic_name_zh))
    findings = list(
        duplicate_therapy(
            draft_of(item_of(drug)), patient_of(current_medications=(line,)), Limits()
        )
    )
    assert [(f.severity, f.item) for f in findings] == [("info", 0)]


def test_dual_antiplatelet_therapy_is_a_warning_to_explain() -> None:
    draft = draft_of(item_of("acetylsalicylic acid"), item_of("clopidogrel"))
    [finding] = duplicate_therapy(draft, patient_of(), Limits())
    assert (finding.severity, finding.item) == ("warning", 1)
    assert "双联抗血小板治疗" in finding.message_zh


def test_two_dihydropyridines() -> None:
    draft = draft_of(item_of("amlodipine"), item_of("nifedipine"))
    [finding] = duplicate_therapy(draft, patient_of(), Limits())
    assert finding.message_zh == (
        "硝苯地平（10 mg）与氨氯地平（5 mg）同属 ATC C08CA，属于重复用药；请删除其中一项。"
    )
    assert finding.message_en == (
        "nifedipine 10 mg and amlodipine 5 mg are both in ATC group C08CA: duplicate "
        "therapy. Remove one of them."
    )


@pytest.mark.parametrize(
    "pair",
    [
        ("lamotrigine", "levetiracetam"),
        ("mirtazapine", "trazodone"),
        ("loratadine", "cyproheptadine"),
    ],
)
def test_other_groups_are_no_duplicates(pair: tuple[str, str]) -> None:
    draft = draft_of(*(item_of(name) for name in pair))
    assert list(duplicate_therapy(draft, patient_of(), Limits())) == []


def test_the_same_substance_twice_is_an_error_even_in_an_other_group() -> None:
    draft = draft_of(item_of("levetiracetam"), item_of("levetiracetam"))
    [finding] = duplicate_therapy(draft, patient_of(), Limits())
    assert finding.severity == "error" and "同一成分" in finding.message_zh


def test_a_code_that_is_not_atc_is_left_alone() -> None:
    odd = msgspec.structs.replace(catalog_drug("amlodipine"), atc_code="C08")
    draft = draft_of(item_of(odd), item_of(odd))
    assert list(duplicate_therapy(draft, patient_of(), Limits())) == []
