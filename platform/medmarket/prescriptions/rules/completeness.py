"""What every prescription holds: a diagnosis, and between one and ``limits.max_items``
drugs (处方管理办法: 每张处方不得超过 5 种药品; a longer list is a second prescription)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from medmarket.prescriptions.interface import DraftPrescription, Finding, Limits, PatientFacts


def is_blank(text: str) -> bool:
    """Nothing but spaces and invisible characters (zero-width spaces, marks of direction)."""
    return all(c.isspace() or unicodedata.category(c) in ("Cf", "Cc") for c in text)


def diagnosis(draft: DraftPrescription, patient: PatientFacts, limits: Limits) -> Iterator[Finding]:
    if is_blank(draft.diagnosis):
        yield Finding(
            rule="diagnosis",
            severity="error",
            message_zh="请填写诊断：处方须写明临床诊断。",
            message_en="Write the diagnosis: a prescription states the clinical diagnosis.",
            field="diagnosis",
        )


def item_count(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterator[Finding]:
    count = len(draft.items)
    if count == 0:
        yield Finding(
            rule="item_count",
            severity="error",
            message_zh="处方中还没有药品；请至少添加一种药品。",
            message_en="The prescription has no drugs; add at least one.",
            field="items",
        )
    elif count > limits.max_items:
        extra = count - limits.max_items
        yield Finding(
            rule="item_count",
            severity="error",
            message_zh=(
                f"每张处方最多开具 {limits.max_items} 种药品，当前有 {count} 种；"
                f"请删除 {extra} 种，或另开一张处方。"
            ),
            message_en=(
                f"A prescription holds at most {limits.max_items} drugs and this one has "
                f"{count}: remove {extra}, or write a second prescription."
            ),
            field="items",
        )
