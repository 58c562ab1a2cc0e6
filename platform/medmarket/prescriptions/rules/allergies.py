"""Allergy conflicts, by drug and by class.

For each item, against each line of the patient's allergies (free text, as people write
them; ``names`` reads them):

- error: the line names the drug (a generic name or alias), or a class that holds its ATC
  code (``allergy_classes``), or another drug of the same substance (level 5);
- warning: the line names a class cross-reactive with the drug's (penicillins and
  cephalosporins, aspirin and the other NSAIDs), or another drug of the drug's level-4
  chemical family (``atc_groups.cross_reactivity_group``: amoxicillin warns of ampicillin,
  cefaclor of cefuroxime; not lamotrigine of levetiracetam, nor aspirin of clopidogrel).

The drugs a line can name are the draft's own and the catalog drugs the service resolved
the record's lines to (``PatientFacts.named_drugs``). One finding an item, the gravest, on
``items[i].drug_id``; it quotes the line, so the doctor can correct a wrong record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from medmarket.prescriptions.interface import (
    DraftPrescription,
    DrugFacts,
    Finding,
    Limits,
    PatientFacts,
)
from medmarket.prescriptions.rules.allergy_classes import AllergyClass, classes_named
from medmarket.prescriptions.rules.atc_groups import cross_reactivity_group
from medmarket.prescriptions.rules.names import names_drug
from medmarket.prescriptions.rules.wording import DRUG_FIELD, drug_en, drug_zh, item_field

RULE = "allergy"


@dataclass(frozen=True)
class _Allergy:
    line: str
    classes: list[AllergyClass]
    drugs: list[DrugFacts]


def _read(patient: PatientFacts, known: list[DrugFacts]) -> list[_Allergy]:
    allergies = []
    for text in patient.allergies:
        line = " ".join(text.split())
        if line:
            named = [drug for drug in known if names_drug(line, drug)]
            allergies.append(_Allergy(line, classes_named(line), named))
    return allergies


def _conflict(drug: DrugFacts, allergy: _Allergy) -> tuple[bool, str, str] | None:
    """(is it an error, message zh, message en), or None."""
    code, line = drug.atc_code, allergy.line
    zh, en = drug_zh(drug), drug_en(drug)
    record_zh = f"患者过敏史记有“{line}”，"
    record_en = f"The patient's allergies include “{line}”"
    if drug in allergy.drugs:
        return (
            True,
            f"{record_zh}不能开具{zh}。请改用其他药物；如过敏史有误，请先更正健康档案。",
            f"{record_en}: {en} must not be prescribed. Choose another drug, or correct the "
            "health record first if the allergy is wrong.",
        )
    for group in allergy.classes:
        if group.holds(code):
            return (
                True,
                f"{record_zh}{zh}属于{group.name_zh}（ATC {code}），不能开具。"
                "请改用其他类别的药物。",
                f"{record_en}, and {en} is one of the {group.name_en} (ATC {code}): it must "
                "not be prescribed. Choose a drug of another class.",
            )
    for other in allergy.drugs:
        if other.atc_code == code:
            return (
                True,
                f"{record_zh}{zh}与{other.generic_name_zh}是同一成分（ATC {code}），不能开具。"
                "请改用其他药物。",
                f"{record_en}, and {en} is the same substance as {other.generic_name_en} "
                f"(ATC {code}): it must not be prescribed. Choose another drug.",
            )
    caution_zh = "如确需使用，请说明理由，并告知患者留意过敏反应。"
    caution_en = (
        "If it is needed, give the reason and tell the patient what reactions to watch for."
    )
    for group in allergy.classes:
        if group.cross_reacts(code):
            return (
                False,
                f"{record_zh}{zh}属于 ATC {code}，可能与{group.name_zh}交叉过敏。{caution_zh}",
                f"{record_en}; {en} (ATC {code}) may cross-react with {group.name_en}. "
                + caution_en,
            )
    family = cross_reactivity_group(code)
    for other in allergy.drugs:
        if family is not None and cross_reactivity_group(other.atc_code) == family:
            return (
                False,
                f"{record_zh}{zh}与{other.generic_name_zh}同属 ATC {family} 类，可能交叉过敏。"
                + caution_zh,
                f"{record_en}; {en} and {other.generic_name_en} are both in ATC group "
                f"{family} and may cross-react. " + caution_en,
            )
    return None


def allergy(draft: DraftPrescription, patient: PatientFacts, limits: Limits) -> Iterator[Finding]:
    """For each item, the gravest conflict with the patient's allergies."""
    known = [item.drug for item in draft.items] + list(patient.named_drugs)
    allergies = _read(patient, known)
    for index, item in enumerate(draft.items):
        gravest: tuple[bool, str, str] | None = None
        for record in allergies:
            conflict = _conflict(item.drug, record)
            if conflict is not None and (gravest is None or (conflict[0] and not gravest[0])):
                gravest = conflict
            if gravest is not None and gravest[0]:
                break
        if gravest is not None:
            error, message_zh, message_en = gravest
            yield Finding(
                rule=RULE,
                severity="error" if error else "warning",
                message_zh=message_zh,
                message_en=message_en,
                item=index,
                field=item_field(index, DRUG_FIELD),
            )
