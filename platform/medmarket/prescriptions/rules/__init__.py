"""The safety rules a prescription passes before the doctor may sign it.

Each rule is a pure function of the draft, the patient and the platform's limits that
answers findings (``interface.Finding``); ``check`` runs the platform's rules, then the
plugins' (the ``medmarket_prescription_rules`` hook), and answers every finding, errors
first. A rule never reads the database or the clock: what it needs is in its arguments,
so each is proved with hypothesis (``tests/``, with strategies the service's tests share).

The platform's rules, a module each (its docstring says what it allows and why):

    completeness   a diagnosis, and 1 to ``limits.max_items`` drugs         (errors)
    guardian       a child under ``limits.guardian_age_years`` only with the guardian
    prescribable   no specially managed drug online, no retired drug
    allergies      by drug or class (``allergy_classes``): errors; cross-reactive: warnings
    duplicates     two of one ATC family (``atc_groups``): error; with current medication:
                   warning
    supply         ``limits.acute_days``, or ``chronic_days`` for chronic follow-up
    quantity       covers dose × frequency × days (``dosing``): less an error, more a warning

Each finding names its drug (``wording``) and the request field (``items[1].quantity``).
"""

from __future__ import annotations

from collections.abc import Sequence

from medmarket.prescriptions.interface import (
    DraftPrescription,
    Finding,
    Limits,
    PatientFacts,
    PrescriptionRule,
)
from medmarket.prescriptions.rules.allergies import allergy
from medmarket.prescriptions.rules.completeness import diagnosis, item_count
from medmarket.prescriptions.rules.duplicates import duplicate_therapy
from medmarket.prescriptions.rules.guardian import guardian
from medmarket.prescriptions.rules.prescribable import retired_drug, special_management
from medmarket.prescriptions.rules.quantity import quantity
from medmarket.prescriptions.rules.supply import chronic_follow_up, supply_limit

Rule = PrescriptionRule

# The platform's own rules, in the order the doctor reads their findings.
PLATFORM_RULES: tuple[Rule, ...] = (
    diagnosis,
    item_count,
    guardian,
    special_management,
    retired_drug,
    allergy,
    duplicate_therapy,
    chronic_follow_up,
    supply_limit,
    quantity,
)

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def check(
    draft: DraftPrescription,
    patient: PatientFacts,
    limits: Limits,
    extra_rules: Sequence[Rule] = (),
) -> list[Finding]:
    """Every finding of the platform's rules and then of ``extra_rules``, errors first,
    then warnings, then info; within a severity, in rule order."""
    findings = [
        finding
        for rule in (*PLATFORM_RULES, *extra_rules)
        for finding in rule(draft, patient, limits)
    ]
    return sorted(findings, key=lambda finding: _SEVERITY_ORDER[finding.severity])
