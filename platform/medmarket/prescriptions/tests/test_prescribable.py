"""No specially managed drug online, and no retired drug: one error per such item, naming its
drug field, whatever else the draft holds."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given

from medmarket.prescriptions.interface import DraftPrescription, DrugFacts, Limits, PatientFacts
from medmarket.prescriptions.rules.prescribable import retired_drug, special_management
from medmarket.prescriptions.tests.strategies import (
    catalog,
    draft_of,
    drafts,
    item_of,
    patient_of,
    patients,
)


@given(draft=drafts(), patient=patients())
def test_each_specially_managed_item_is_one_error_on_its_drug(
    draft: DraftPrescription, patient: PatientFacts
) -> None:
    findings = list(special_management(draft, patient, Limits()))
    special = [i for i, item in enumerate(draft.items) if item.drug.special_class is not None]
    assert [finding.item for finding in findings] == special
    for finding in findings:
        assert finding.severity == "error"
        assert finding.field == f"items[{finding.item}].drug_id"
        drug = draft.items[finding.item or 0].drug
        assert drug.generic_name_zh in finding.message_zh
        assert drug.generic_name_en in finding.message_en


@given(draft=drafts(), patient=patients())
def test_each_retired_item_is_one_error_on_its_drug(
    draft: DraftPrescription, patient: PatientFacts
) -> None:
    findings = list(retired_drug(draft, patient, Limits()))
    assert [finding.item for finding in findings] == [
        i for i, item in enumerate(draft.items) if item.drug.retired
    ]
    assert {finding.severity for finding in findings} <= {"error"}
    assert all(finding.field == f"items[{finding.item}].drug_id" for finding in findings)


@pytest.mark.parametrize(
    "drug",
    [drug for drug in catalog() if drug.special_class is not None],
    ids=lambda drug: f"{drug.generic_name_en}-{drug.dosage_form}",
)
def test_each_specially_managed_drug_of_the_catalog_names_its_class(drug: DrugFacts) -> None:
    [finding] = special_management(draft_of(item_of(drug)), patient_of(), Limits())
    assert "特殊管理药品（" not in finding.message_zh  # a class it knows, not the code
    assert "specially managed drug (" not in finding.message_en
    assert "不能在互联网诊疗中开具" in finding.message_zh


def test_tramadol_is_a_class_ii_psychotropic_drug() -> None:
    [finding] = special_management(draft_of(item_of("tramadol")), patient_of(), Limits())
    assert finding.message_zh.startswith("曲马多（")
    assert "第二类精神药品" in finding.message_zh
    assert "a class II psychotropic drug" in finding.message_en


def test_an_ordinary_drug_in_use_passes() -> None:
    draft = draft_of(item_of("amoxicillin"), item_of("paracetamol"))
    assert list(special_management(draft, patient_of(), Limits())) == []
    assert list(retired_drug(draft, patient_of(), Limits())) == []


def test_a_retired_drug_is_an_error_naming_it() -> None:
    retired = msgspec.structs.replace(item_of("amoxicillin").drug, retired=True)
    draft = draft_of(item_of("paracetamol"), item_of(retired))
    [finding] = retired_drug(draft, patient_of(), Limits())
    assert (finding.item, finding.field) == (1, "items[1].drug_id")
    assert "阿莫西林" in finding.message_zh and "amoxicillin" in finding.message_en
