"""``check`` over every rule: it never raises for any draft the types allow, it answers
errors first, then warnings, then info, each severity in rule order, and the extra rules'
findings come after the platform's."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given, settings

from medmarket.prescriptions import rules
from medmarket.prescriptions.interface import DraftPrescription, Finding, Limits, PatientFacts
from medmarket.prescriptions.tests.strategies import (
    drafts,
    limits,
    patients,
    wild_drafts,
    wild_limits,
    wild_patients,
)

ORDER = {"error": 0, "warning": 1, "info": 2}
# Every rule over a whole draft: quick, but not within hypothesis's 200 ms on a busy machine.
ALL_RULES = settings(deadline=None)


@ALL_RULES
@given(draft=wild_drafts(), patient=wild_patients(), allowed=wild_limits())
def test_no_rule_raises_for_any_draft_the_types_allow(
    draft: DraftPrescription, patient: PatientFacts, allowed: Limits
) -> None:
    for finding in rules.check(draft, patient, allowed):
        assert isinstance(finding, Finding)
        assert finding.message_zh and finding.message_en
        assert finding.item is None or 0 <= finding.item < len(draft.items)


def every_severity(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterator[Finding]:
    for index, _item in enumerate(draft.items):
        for severity in ("info", "warning", "error"):
            yield Finding(
                rule="test.every_severity",
                severity=severity,
                message_zh="测试",
                message_en="test",
                item=index,
            )


@ALL_RULES
@given(draft=drafts(), patient=patients(), allowed=limits())
def test_errors_come_first_then_warnings_then_info_each_in_rule_order(
    draft: DraftPrescription, patient: PatientFacts, allowed: Limits
) -> None:
    findings = rules.check(draft, patient, allowed, extra_rules=[every_severity])
    assert [ORDER[f.severity] for f in findings] == sorted(ORDER[f.severity] for f in findings)
    unsorted = [
        finding
        for rule in (*rules.PLATFORM_RULES, every_severity)
        for finding in rule(draft, patient, allowed)
    ]
    for severity in ORDER:
        assert [f for f in findings if f.severity == severity] == [
            f for f in unsorted if f.severity == severity
        ]


@ALL_RULES
@given(draft=drafts(), patient=patients(), allowed=limits())
def test_every_finding_names_a_field_of_the_request_or_the_whole_prescription(
    draft: DraftPrescription, patient: PatientFacts, allowed: Limits
) -> None:
    for finding in rules.check(draft, patient, allowed):
        if finding.item is not None:
            assert (finding.field or "").startswith(f"items[{finding.item}].")
        assert finding.field is None or finding.field.split(".")[-1].isidentifier()
