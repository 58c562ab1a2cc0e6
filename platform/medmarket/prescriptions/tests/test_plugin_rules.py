"""Plugins' prescription rules through the host: collected each plugin's alone, their ids
prefixed with the plugin's name, and every way a rule can break (raising, answering what is
not a finding, ``async def``, a hook that raises) blocking the prescription with one error
rather than letting it pass unchecked. A disabled plugin's rules are not run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmarket import DraftPrescription, Finding, Limits, PatientFacts, hookimpl
from medmarket.plugin_manager import PluginHost
from medmarket.prescriptions import rules
from medmarket.prescriptions.tests.strategies import draft_of, drafts, item_of, patient_of, patients
from medmarket.testing import plugin_settings


def note(draft: DraftPrescription, patient: PatientFacts, limits: Limits) -> Iterator[Finding]:
    yield Finding(rule="note", severity="info", message_zh="备注", message_en="a note")


def already_prefixed(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> list[Finding]:
    return [Finding(rule="good.mine", severity="warning", message_zh="警告", message_en="warn")]


def raises(draft: DraftPrescription, patient: PatientFacts, limits: Limits) -> list[Finding]:
    raise RuntimeError("formulary file missing")


def raises_midway(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterator[Finding]:
    yield Finding(rule="partial", severity="info", message_zh="部分", message_en="partial")
    raise KeyError("oops")


def answers_strings(draft: DraftPrescription, patient: PatientFacts, limits: Limits) -> Any:
    return ["not a finding"]


def answers_a_foreign_item(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> list[Finding]:
    return [
        Finding(rule="x", severity="info", message_zh="x", message_en="x", item=len(draft.items))
    ]


async def asynchronous(draft: DraftPrescription, patient: PatientFacts, limits: Limits) -> Any:
    return []


def answers_a_coroutine(draft: DraftPrescription, patient: PatientFacts, limits: Limits) -> Any:
    return asynchronous(draft, patient, limits)


class Offers:
    def __init__(self, *offered: Any) -> None:
        self.offered = offered

    @hookimpl
    def medmarket_prescription_rules(self, settings: Any) -> Any:
        return list(self.offered)


class HookRaises:
    @hookimpl
    def medmarket_prescription_rules(self, settings: Any) -> Any:
        raise OSError("cannot read the formulary")


def host_with(*plugins: tuple[str, object], **overrides: Any) -> PluginHost:
    return PluginHost(plugin_settings(**overrides), list(plugins))


def found(host: PluginHost, draft: DraftPrescription | None = None) -> list[tuple[str, str]]:
    draft = draft or draft_of(item_of("paracetamol"))
    return [
        (finding.rule, finding.severity)
        for rule in host.prescription_rules
        for finding in rule(draft, patient_of(), Limits())
    ]


def test_ids_carry_the_plugin_s_name_and_each_plugin_is_collected_alone() -> None:
    host = host_with(("good", Offers(note, already_prefixed)), ("other", Offers(note)))
    assert sorted(found(host)) == [
        ("good.mine", "warning"),
        ("good.note", "info"),
        ("other.note", "info"),
    ]
    assert {rule.name for rule in host.prescription_rules} == {
        "good.note",
        "good.already_prefixed",
        "other.note",
    }


@pytest.mark.parametrize(
    "broken", [raises, raises_midway, answers_strings, answers_a_foreign_item, answers_a_coroutine]
)
def test_a_rule_that_breaks_answers_one_error_and_the_others_still_run(broken: Any) -> None:
    host = host_with(("broken", Offers(broken, note)), ("good", Offers(note)))
    assert sorted(found(host)) == [
        ("broken.note", "info"),
        ("broken.rule_failed", "error"),
        ("good.note", "info"),
    ]


def test_the_failure_is_named_to_the_doctor() -> None:
    host = host_with(("formulary", Offers(raises)))
    [finding] = host.prescription_rules[0](draft_of(), patient_of(), Limits())
    assert "formulary.raises" in finding.message_zh and "formulary.raises" in finding.message_en
    assert "failed" in finding.message_en and finding.field is None


@pytest.mark.parametrize("plugin", [HookRaises(), Offers(asynchronous), Offers("not a function")])
def test_a_plugin_whose_rules_cannot_be_collected_blocks_every_prescription(plugin: Any) -> None:
    host = host_with(("broken", plugin))
    assert ("broken.rule_failed", "error") in found(host)
    assert any(info.error for info in host.describe() if info.name == "broken")


def test_a_disabled_plugin_s_rules_do_not_run() -> None:
    host = host_with(("broken", HookRaises()), disabled_plugins=["broken"])
    assert all(rule.owner != "broken" for rule in host.prescription_rules)


@settings(deadline=None)
@given(draft=drafts(), patient=patients(), broken=st.sampled_from([raises, answers_strings]))
def test_a_broken_plugin_rule_is_always_one_error_among_the_errors(
    draft: DraftPrescription, patient: PatientFacts, broken: Any
) -> None:
    host = host_with(("broken", Offers(broken)))
    findings = rules.check(draft, patient, Limits(), extra_rules=host.prescription_rules)
    failed = [f for f in findings if f.rule == "broken.rule_failed"]
    assert len(failed) == 1
    errors = [f for f in findings if f.severity == "error"]
    assert failed[0] in errors and findings[: len(errors)] == errors
