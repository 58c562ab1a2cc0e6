"""How many days an item may supply.

An ordinary prescription supplies at most ``limits.acute_days`` (处方管理办法: 一般不得超过
7 日用量). Follow-up of a chronic disease may supply up to ``limits.chronic_days``, when the
doctor states it is one (``draft.chronic_follow_up``) and the patient's health record holds a
chronic condition; stating it without one on record is an error of its own, and the items
are then held to the ordinary limit. A single dose (``once``) supplies one day.

Each item over its limit is one error on ``items[i].duration_days``; an item of less than a
day (but a single dose) is an error there too.
"""

from __future__ import annotations

from collections.abc import Iterator

from medmarket.prescriptions.interface import DraftPrescription, Finding, Limits, PatientFacts
from medmarket.prescriptions.rules.dosing import supply_days
from medmarket.prescriptions.rules.wording import days_en, drug_en, drug_zh, item_field


def has_chronic_condition(patient: PatientFacts) -> bool:
    return any(condition.strip() for condition in patient.chronic_conditions)


def chronic_follow_up(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterator[Finding]:
    """An error when the draft is chronic follow-up but no chronic condition is on record."""
    if draft.chronic_follow_up and not has_chronic_condition(patient):
        yield Finding(
            rule="chronic_follow_up",
            severity="error",
            message_zh=(
                "患者健康档案中没有慢性病记录，不能按慢性病复诊开具。请取消“慢性病复诊”"
                f"（每种药品最多开具 {limits.acute_days} 天），或先在患者健康档案中记录其慢性病。"
            ),
            message_en=(
                "The patient's health record holds no chronic condition, so this cannot be "
                "chronic follow-up. Unmark chronic follow-up (each drug then up to "
                f"{days_en(limits.acute_days)}), or first record the chronic condition in "
                "the patient's health record."
            ),
            field="chronic_follow_up",
        )


def supply_limit(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterator[Finding]:
    """An error for each item that supplies more days than the prescription allows (or
    less than one)."""
    chronic = draft.chronic_follow_up and has_chronic_condition(patient)
    allowed = limits.chronic_days if chronic else limits.acute_days
    kind_zh, kind_en = (
        ("慢性病复诊", "chronic follow-up") if chronic else ("普通处方", "a prescription")
    )
    for index, item in enumerate(draft.items):
        days = supply_days(item)
        if days < 1:
            yield Finding(
                rule="supply_days",
                severity="error",
                message_zh=f"{drug_zh(item.drug)}的疗程为 {days} 天；请填写至少 1 天。",
                message_en=(f"{drug_en(item.drug)} is for {days_en(days)}; write at least 1 day."),
                item=index,
                field=item_field(index, "duration_days"),
            )
        elif days > allowed:
            hint_zh = hint_en = ""
            if not chronic and has_chronic_condition(patient) and days <= limits.chronic_days:
                hint_zh = (
                    "如为患者已记录慢性病的复诊，请勾选“慢性病复诊”"
                    f"（最多 {limits.chronic_days} 天）。"
                )
                hint_en = (
                    " If this is follow-up of the chronic condition on the patient's record, "
                    f"mark it as chronic follow-up (up to {days_en(limits.chronic_days)})."
                )
            yield Finding(
                rule="supply_days",
                severity="error",
                message_zh=(
                    f"{drug_zh(item.drug)}开具 {days} 天，超过{kind_zh}最多 {allowed} 天的用量；"
                    f"请把疗程改为不超过 {allowed} 天。{hint_zh}"
                ),
                message_en=(
                    f"{drug_en(item.drug)} is for {days_en(days)}, more than the "
                    f"{days_en(allowed)} {kind_en} may supply; shorten it to at most "
                    f"{days_en(allowed)}.{hint_en}"
                ),
                item=index,
                field=item_field(index, "duration_days"),
            )
