"""Allergies: a line naming the drug or a class that holds it is an error, one naming a
cross-reactive class or a drug of the same chemical family a warning, whatever the case,
spacing and words around it; the class table against well-known drugs of the catalog."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmarket.prescriptions.interface import DraftPrescription, DrugFacts, Limits, PatientFacts
from medmarket.prescriptions.rules.allergies import allergy
from medmarket.prescriptions.rules.allergy_classes import ALLERGY_CLASSES, AllergyClass
from medmarket.prescriptions.rules.names import drug_names, names_drug
from medmarket.prescriptions.tests.strategies import (
    catalog,
    catalog_drug,
    draft_of,
    drafts,
    item_of,
    ordinary_drugs,
    patient_of,
    patients,
    respelled,
)


def findings_for(drug: DrugFacts, *lines: str) -> list[tuple[str, str | None]]:
    return [
        (finding.severity, finding.field)
        for finding in allergy(draft_of(item_of(drug)), patient_of(allergies=lines), Limits())
    ]


AROUND = st.sampled_from(["{}", "{}过敏", "对{}过敏（皮疹）", "{} allergy", "allergic to {}"])


@given(drug=ordinary_drugs(), data=st.data())
def test_a_line_naming_the_drug_is_one_error_in_any_case_and_spacing(
    drug: DrugFacts, data: st.DataObject
) -> None:
    names = [n for n in (drug.generic_name_zh, drug.generic_name_en, *drug.aliases) if n]
    name = data.draw(st.sampled_from(names).filter(lambda n: names_drug(n, drug)))
    line = data.draw(respelled(data.draw(AROUND).format(name)))
    assert findings_for(drug, line) == [("error", "items[0].drug_id")]


@settings(deadline=None)  # every allergy against every item, twice
@given(draft=drafts(), patient=patients(), data=st.data())
def test_case_and_spacing_never_change_what_is_found(
    draft: DraftPrescription, patient: PatientFacts, data: st.DataObject
) -> None:
    respelt = msgspec.structs.replace(
        patient, allergies=tuple(data.draw(respelled(line)) for line in patient.allergies)
    )

    def found(facts: PatientFacts) -> list[tuple[str, str, int | None, str | None]]:
        return [(f.rule, f.severity, f.item, f.field) for f in allergy(draft, facts, Limits())]

    assert found(respelt) == found(patient)


CLASS_NAMES = [(group, name) for group in ALLERGY_CLASSES for name in group.names]


@given(
    named=st.sampled_from(CLASS_NAMES),
    drug=st.sampled_from(catalog()),
    around=AROUND,
    data=st.data(),
)
def test_a_line_naming_a_class_is_an_error_for_its_drugs_a_warning_for_cross_reactive_ones(
    named: tuple[AllergyClass, str], drug: DrugFacts, around: str, data: st.DataObject
) -> None:
    group, name = named
    line = data.draw(respelled(around.format(name)))
    if group.holds(drug.atc_code) or names_drug(line, drug):
        expected = [("error", "items[0].drug_id")]
    elif group.cross_reacts(drug.atc_code):
        expected = [("warning", "items[0].drug_id")]
    else:
        expected = []
    assert findings_for(drug, line) == expected


# Well-known drugs of the catalog, with the classes that hold them (WHO ATC codes).
EXPECTED_CLASSES = [
    ("amoxicillin", {"penicillins", "beta_lactams"}),
    ("amoxicillin and clavulanic acid", {"penicillins", "beta_lactams"}),
    ("benzathine benzylpenicillin", {"penicillins", "beta_lactams"}),
    ("piperacillin and tazobactam", {"penicillins", "beta_lactams"}),
    ("cefalexin", {"cephalosporins", "beta_lactams"}),
    ("cefuroxime", {"cephalosporins", "beta_lactams"}),
    ("ceftriaxone", {"cephalosporins", "beta_lactams"}),
    ("cefepime", {"cephalosporins", "beta_lactams"}),
    ("aztreonam", {"beta_lactams"}),
    ("meropenem", {"carbapenems", "beta_lactams"}),
    ("sulfamethoxazole and trimethoprim", {"sulfonamides"}),
    ("sulfasalazine", {"sulfonamides"}),
    ("mesalazine", set()),
    ("furosemide", set()),
    ("hydrochlorothiazide", set()),
    ("glibenclamide", set()),
    ("azithromycin", {"macrolides"}),
    ("clarithromycin", {"macrolides"}),
    ("clindamycin", set()),
    ("levofloxacin", {"quinolones"}),
    ("ciprofloxacin", {"quinolones"}),
    ("ofloxacin", {"quinolones"}),
    ("doxycycline", {"tetracyclines"}),
    ("gentamicin", {"aminoglycosides"}),
    ("tobramycin", {"aminoglycosides"}),
    ("ibuprofen", {"nsaids"}),
    ("diclofenac", {"nsaids"}),
    ("celecoxib", {"nsaids"}),
    ("paracetamol", set()),
    ("clopidogrel", set()),
    ("morphine", {"opioids"}),
    ("codeine", {"opioids"}),
    ("tramadol", {"opioids"}),
    ("dextromethorphan", set()),
    ("povidone-iodine", {"iodine"}),
]


@pytest.mark.parametrize(("name", "classes"), EXPECTED_CLASSES)
def test_the_class_table_holds_what_who_codes_say(name: str, classes: set[str]) -> None:
    for drug in (d for d in catalog() if d.generic_name_en == name):
        assert {g.key for g in ALLERGY_CLASSES if g.holds(drug.atc_code)} == classes, drug


def test_aspirin_of_both_codes_is_a_salicylate_and_an_nsaid() -> None:
    aspirins = [d for d in catalog() if d.generic_name_en == "acetylsalicylic acid"]
    assert {d.atc_code for d in aspirins} == {"N02BA01", "B01AC06"}
    for drug in aspirins:
        assert {g.key for g in ALLERGY_CLASSES if g.holds(drug.atc_code)} == {
            "nsaids",
            "salicylates",
        }


def test_every_class_has_its_names_in_both_languages_and_codes_as_atc_prefixes() -> None:
    keys = [group.key for group in ALLERGY_CLASSES]
    assert len(keys) == len(set(keys))
    for group in ALLERGY_CLASSES:
        assert any(not name.isascii() for name in group.names), group.key
        assert any(name.isascii() for name in group.names), group.key
        for code in (*group.atc, *group.cross_reactive):
            assert len(code) in (1, 3, 4, 5, 7) and code[0].isupper() and code.isalnum()


def test_allergy_to_penicillin_blocks_penicillins_and_warns_of_cephalosporins() -> None:
    patient = patient_of(allergies=("青霉素过敏（皮疹）",))
    draft = draft_of(item_of("amoxicillin"), item_of("cefuroxime"), item_of("azithromycin"))
    [blocked, caution] = allergy(draft, patient, Limits())
    assert (blocked.severity, blocked.item) == ("error", 0)
    assert blocked.message_zh == (
        "患者过敏史记有“青霉素过敏（皮疹）”，阿莫西林（0.25 g）属于青霉素类（ATC J01CA04），"
        "不能开具。请改用其他类别的药物。"
    )
    assert blocked.message_en == (
        "The patient's allergies include “青霉素过敏（皮疹）”, and amoxicillin 0.25 g is one "
        "of the penicillins (ATC J01CA04): it must not be prescribed. Choose a drug of "
        "another class."
    )
    assert (caution.severity, caution.item) == ("warning", 1)
    assert "可能与青霉素类交叉过敏" in caution.message_zh


def test_a_drug_of_the_same_chemical_family_is_a_warning() -> None:
    # Amoxicillin is in the draft; the allergy names it, so ampicillin (J01CA) is a warning.
    draft = draft_of(item_of("amoxicillin"), item_of("ampicillin"))
    findings = list(allergy(draft, patient_of(allergies=("Amoxicillin",)), Limits()))
    assert [(f.severity, f.item) for f in findings] == [("error", 0), ("warning", 1)]
    assert "同属 ATC J01CA 类" in findings[1].message_zh
    assert "both in ATC group J01CA" in findings[1].message_en


def test_the_record_s_drugs_resolved_by_the_service_are_read_too() -> None:
    nifedipine = catalog_drug("nifedipine")
    patient = patient_of(allergies=("硝苯地平",), named_drugs=(nifedipine,))
    [finding] = allergy(draft_of(item_of("amlodipine")), patient, Limits())
    assert finding.severity == "warning" and "C08CA" in finding.message_zh
    # Without them nothing ties 硝苯地平 to a code.
    assert (
        list(
            allergy(draft_of(item_of("amlodipine")), patient_of(allergies=("硝苯地平",)), Limits())
        )
        == []
    )


@pytest.mark.parametrize(
    ("allergic_to", "prescribed"),
    [
        ("lamotrigine", "levetiracetam"),  # N03AX: other antiepileptics
        ("acetylsalicylic acid", "clopidogrel"),  # B01AC: by effect, not chemistry
        ("ciclosporin", "tacrolimus"),  # L04AD
    ],
)
def test_groups_of_unrelated_substances_do_not_warn(allergic_to: str, prescribed: str) -> None:
    others = tuple(d for d in catalog() if d.generic_name_en == allergic_to)
    patient = patient_of(allergies=(others[0].generic_name_zh,), named_drugs=others)
    assert list(allergy(draft_of(item_of(prescribed)), patient, Limits())) == []


@given(drug=st.sampled_from(catalog()))
def test_lines_that_name_no_drug_find_nothing(drug: DrugFacts) -> None:
    lines = ("花粉", "海鲜", "peanuts", "latex", "否认药物过敏史", "无", "NKDA", "", "  ")
    assert findings_for(drug, *lines) == []


def test_every_catalog_drug_has_a_name_to_be_found_by() -> None:
    assert all(drug_names(drug) for drug in catalog())
