"""Duplicate therapy: two drugs of one kind (``atc_groups.duplicate_group``: the ATC level-4
chemical family, or the substance in groups of unrelated ones).

- Two items of one kind: an error on the later one (on ``items[i].drug_id``), naming the
  earlier; a warning instead for groups given together by design (dual antiplatelet
  therapy, a long-acting nitrate with glyceryl trinitrate for attacks: ``COMBINED_BY_DESIGN``).
- An item of the same kind as something the patient already takes (a line of
  ``current_medications`` that names a drug of the draft or of ``named_drugs``, read as
  allergies are): a warning, since the doctor may be replacing it or adding to it on
  purpose, and says which. The very substance the patient takes is a renewal (复诊续方, the
  usual follow-up), not a duplicate: an info that asks to keep the dose consistent.

One finding an item; a duplicate within the draft comes before one with current medication.
"""

from __future__ import annotations

from collections.abc import Iterator

from medmarket.prescriptions.interface import (
    DraftPrescription,
    DrugFacts,
    Finding,
    Limits,
    PatientFacts,
    Severity,
)
from medmarket.prescriptions.rules.atc_groups import COMBINED_BY_DESIGN, duplicate_group, level_4
from medmarket.prescriptions.rules.names import names_drug
from medmarket.prescriptions.rules.wording import DRUG_FIELD, drug_en, drug_zh, item_field

RULE = "duplicate_therapy"


def _within_draft(index: int, drug: DrugFacts, first: DrugFacts) -> Finding:
    zh, en, first_zh, first_en = drug_zh(drug), drug_en(drug), drug_zh(first), drug_en(first)
    group = level_4(drug.atc_code) or drug.atc_code
    severity: Severity = "error"
    if drug.atc_code == first.atc_code:
        message_zh = (
            f"{zh}与{first_zh}是同一成分（ATC {drug.atc_code}），重复开具；"
            "请合并为一项，或删除其中一项。"
        )
        message_en = (
            f"{en} is the same substance as {first_en} (ATC {drug.atc_code}), prescribed "
            "twice: merge them into one item, or remove one."
        )
    elif group in COMBINED_BY_DESIGN:
        severity = "warning"
        message_zh = (
            f"{zh}与{first_zh}同属 ATC {group}；如为联合用药（例如双联抗血小板治疗），请说明理由，"
            "否则请删除其中一项。"
        )
        message_en = (
            f"{en} and {first_en} are both in ATC group {group}. If they are meant together "
            "(dual antiplatelet therapy, say), give the reason; otherwise remove one."
        )
    else:
        message_zh = f"{zh}与{first_zh}同属 ATC {group}，属于重复用药；请删除其中一项。"
        message_en = (
            f"{en} and {first_en} are both in ATC group {group}: duplicate therapy. "
            "Remove one of them."
        )
    return Finding(
        rule=RULE,
        severity=severity,
        message_zh=message_zh,
        message_en=message_en,
        item=index,
        field=item_field(index, DRUG_FIELD),
    )


def _with_current(index: int, drug: DrugFacts, line: str, taken: DrugFacts) -> Finding:
    zh, en = drug_zh(drug), drug_en(drug)
    if taken.atc_code == drug.atc_code:
        return Finding(
            rule=RULE,
            severity="info",
            message_zh=(
                f"患者目前用药记有“{line}”，与{zh}是同一成分：如为续方，请核对剂量与原用法一致。"
            ),
            message_en=(
                f"The patient's current medications include “{line}”, the same substance as "
                f"{en}: if this renews it, check that the dose is the one the patient takes."
            ),
            item=index,
            field=item_field(index, DRUG_FIELD),
        )
    group = level_4(drug.atc_code) or drug.atc_code
    return Finding(
        rule=RULE,
        severity="warning",
        message_zh=(
            f"患者目前用药记有“{line}”，{taken.generic_name_zh}与{zh}同属 ATC {group}。"
            "如为替换或同用，请说明理由；否则请删除此药。"
        ),
        message_en=(
            f"The patient's current medications include “{line}”: {taken.generic_name_en} "
            f"and {en} are both in ATC group {group}. If this replaces it or adds to it, give "
            "the reason; otherwise remove it."
        ),
        item=index,
        field=item_field(index, DRUG_FIELD),
    )


def duplicate_therapy(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterator[Finding]:
    """Duplicates within the draft, then with what the patient already takes."""
    known = [item.drug for item in draft.items] + list(patient.named_drugs)
    taking = [
        (line, [drug for drug in known if names_drug(line, drug)])
        for line in (" ".join(text.split()) for text in patient.current_medications)
        if line
    ]
    first_of: dict[str, DrugFacts] = {}
    for index, item in enumerate(draft.items):
        group = duplicate_group(item.drug.atc_code)
        if group is None:
            continue
        if group in first_of:
            yield _within_draft(index, item.drug, first_of[group])
            continue
        first_of[group] = item.drug
        alike = [
            (line, drug)
            for line, drugs in taking
            for drug in drugs
            if duplicate_group(drug.atc_code) == group
        ]
        # Another substance of the kind (a warning) before the same one (a renewal).
        alike.sort(key=lambda found: found[1].atc_code == item.drug.atc_code)
        if alike:
            yield _with_current(index, item.drug, *alike[0])
