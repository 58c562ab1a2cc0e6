"""The values the safety rules read, under the name the platform's code imports them by.

They are defined in ``interface.py``, the contract plugins' rules meet (a lower layer,
exported from ``medmarket``); these are the same classes.
"""

from medmarket.prescriptions.interface import (
    DoseUnit,
    DraftPrescription,
    DrugFacts,
    Finding,
    Frequency,
    ItemDraft,
    Limits,
    PatientFacts,
    PrescriptionRule,
    QuantityUnit,
    Severity,
)

__all__ = [
    "DoseUnit",
    "DraftPrescription",
    "DrugFacts",
    "Finding",
    "Frequency",
    "ItemDraft",
    "Limits",
    "PatientFacts",
    "PrescriptionRule",
    "QuantityUnit",
    "Severity",
]
