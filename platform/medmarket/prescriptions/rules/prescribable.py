"""Whether a drug may be prescribed online at all.

China's specially managed drugs (麻醉药品, 精神药品, 医疗用毒性药品, 放射性药品,
药品类易制毒化学品, and the doping-controlled 蛋白同化制剂、肽类激素) may not be prescribed
in internet diagnosis and treatment (互联网诊疗管理办法（试行）, 2018: "不得开具麻醉药品、
精神药品等特殊管理药品的处方"): a drug of any special class is an error, whatever the
class. So is a drug the catalog has retired: it is no longer offered, and what pharmacies
stock follows the catalog.
"""

from __future__ import annotations

from collections.abc import Iterator

from medmarket.prescriptions.interface import DraftPrescription, Finding, Limits, PatientFacts
from medmarket.prescriptions.rules.wording import DRUG_FIELD, drug_en, drug_zh, item_field

SPECIAL_CLASS_ZH = {
    "narcotic": "麻醉药品",
    "psychotropic_1": "第一类精神药品",
    "psychotropic_2": "第二类精神药品",
    "medical_toxic": "医疗用毒性药品",
    "radioactive": "放射性药品",
    "precursor": "药品类易制毒化学品",
    "doping": "蛋白同化制剂、肽类激素",
}
SPECIAL_CLASS_EN = {
    "narcotic": "a narcotic drug",
    "psychotropic_1": "a class I psychotropic drug",
    "psychotropic_2": "a class II psychotropic drug",
    "medical_toxic": "a toxic drug for medical use",
    "radioactive": "a radiopharmaceutical",
    "precursor": "a precursor chemical",
    "doping": "an anabolic agent or peptide hormone (doping-controlled)",
}


def special_management(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterator[Finding]:
    """An error for each item whose drug is specially managed."""
    for index, item in enumerate(draft.items):
        special = item.drug.special_class
        if special is None:
            continue
        class_zh = SPECIAL_CLASS_ZH.get(special, f"特殊管理药品（{special}）")
        class_en = SPECIAL_CLASS_EN.get(special, f"a specially managed drug ({special})")
        yield Finding(
            rule="special_management",
            severity="error",
            message_zh=(
                f"{drug_zh(item.drug)}属于{class_zh}，不能在互联网诊疗中开具。"
                "请删除此药，或请患者到线下医疗机构就诊。"
            ),
            message_en=(
                f"{drug_en(item.drug)} is {class_en} and cannot be prescribed online. "
                "Remove it, or refer the patient to an in-person visit."
            ),
            item=index,
            field=item_field(index, DRUG_FIELD),
        )


def retired_drug(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterator[Finding]:
    """An error for each item whose drug the catalog has retired."""
    for index, item in enumerate(draft.items):
        if not item.drug.retired:
            continue
        yield Finding(
            rule="retired_drug",
            severity="error",
            message_zh=(
                f"{drug_zh(item.drug)}已从药品目录停用，不能再开具。请改选目录中在用的药品。"
            ),
            message_en=(
                f"{drug_en(item.drug)} has been retired from the drug catalog and can no "
                "longer be prescribed. Choose a drug that is in use."
            ),
            item=index,
            field=item_field(index, DRUG_FIELD),
        )
