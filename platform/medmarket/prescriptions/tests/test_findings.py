"""How the doctor answers the rules (hypothesis): an error refuses the prescription naming its
field; every warning needs a reason, under its ``rule/field`` or its ``rule``; a reason for
no warning is refused; what is kept is every finding, each warning with its reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.prescriptions.findings import (
    PrescriptionRefused,
    ReasonsRequired,
    explained,
    reason_key,
    refuse_errors,
)
from medmarket.prescriptions.model import Finding

findings = st.builds(
    Finding,
    rule=st.sampled_from(["supply_days", "allergy", "duplicate_therapy", "formulary.listed"]),
    severity=st.sampled_from(["warning", "info"]),
    message_zh=st.just("提示"),
    message_en=st.just("note"),
    item=st.none(),
    field=st.sampled_from([None, "items[0].duration_days", "items[1].drug_id"]),
)
texts = st.sampled_from(["患者长期服用，已核实", "benefit outweighs the risk", "   "])


@given(st.lists(findings, max_size=6), st.data())
def test_every_warning_needs_a_reason_and_every_reason_a_warning(
    found: list[Finding], data: st.DataObject
) -> None:
    warnings = [f for f in found if f.severity == "warning"]
    keys = sorted({reason_key(f) for f in warnings} | {f.rule for f in warnings})
    keys += ["unknown_rule", "allergy/items[9].dose"]
    reasons = data.draw(st.dictionaries(st.sampled_from(keys), texts, max_size=4))
    given_reasons = {k: v.strip() for k, v in reasons.items() if v.strip()}

    def reason_for(f: Finding) -> str | None:
        return given_reasons.get(reason_key(f)) or given_reasons.get(f.rule)

    unexplained = [f for f in warnings if reason_for(f) is None]
    used = {reason_key(f) if given_reasons.get(reason_key(f)) else f.rule for f in warnings}
    stray = set(given_reasons) - used
    if unexplained or stray:
        with pytest.raises(ReasonsRequired) as refused:
            explained(found, reasons)
        named = {error.field: error.code for error in refused.value.errors}
        assert {f"reasons.{reason_key(f)}" for f in unexplained} == {
            field for field, code in named.items() if code == "reason-required"
        }
        assert {f"reasons.{key}" for key in stray} == {
            field for field, code in named.items() if code == "no-such-warning"
        }
        assert len(refused.value.extra["findings"]) == len(found)
        return
    kept = explained(found, reasons)
    assert [(k.rule, k.severity, k.field) for k in kept] == [
        (f.rule, f.severity, f.field) for f in found
    ]
    assert [k.reason for k in kept] == [
        reason_for(f) if f.severity == "warning" else None for f in found
    ]


def test_an_error_refuses_naming_its_field_and_lists_everything() -> None:
    warning = Finding(rule="supply_days", severity="warning", message_zh="w", message_en="w")
    error = Finding(
        rule="special_management",
        severity="error",
        message_zh="特殊管理药品不得在互联网开具",
        message_en="specially managed drugs are not prescribed online",
        item=0,
        field="items[0].drug_id",
    )
    refuse_errors([warning])
    with pytest.raises(PrescriptionRefused) as refused:
        refuse_errors([error, warning])
    problem = refused.value.body()
    assert problem["status"] == 422 and problem["type"] == "/problems/prescription-refused"
    assert problem["errors"] == [
        {
            "field": "items[0].drug_id",
            "message": "specially managed drugs are not prescribed online",
            "code": "special_management",
        }
    ]
    assert [f["rule"] for f in problem["findings"]] == ["special_management", "supply_days"]
