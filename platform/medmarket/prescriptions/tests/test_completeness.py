"""Every prescription: a diagnosis that is not blank, at least one drug, at most the limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from medmarket.prescriptions.interface import Limits
from medmarket.prescriptions.rules.completeness import diagnosis, item_count
from medmarket.prescriptions.tests.strategies import draft_of, item_of, limits, patient_of

BLANK = st.text(
    st.sampled_from([" ", "\t", "\n", "\u3000", "\u200b", "\u200e", "\ufeff"]), max_size=6
)


@given(blank=BLANK)
def test_a_blank_diagnosis_is_an_error_on_it(blank: str) -> None:
    [finding] = diagnosis(draft_of(diagnosis=blank), patient_of(), Limits())
    assert (finding.severity, finding.field, finding.item) == ("error", "diagnosis", None)


@given(
    before=BLANK,
    text=st.text(min_size=1).filter(
        lambda t: not all(c.isspace() or c in "\u200b\u200e\ufeff" for c in t) and t.isprintable()
    ),
    after=BLANK,
)
def test_any_written_diagnosis_passes(before: str, text: str, after: str) -> None:
    assert list(diagnosis(draft_of(diagnosis=before + text + after), patient_of(), Limits())) == []


@given(count=st.integers(0, 15), allowed=limits())
def test_between_one_and_the_limit_of_items(count: int, allowed: Limits) -> None:
    draft = draft_of(*[item_of("paracetamol")] * count)
    findings = list(item_count(draft, patient_of(), allowed))
    assert len(findings) == (count == 0 or count > allowed.max_items)
    for finding in findings:
        assert (finding.severity, finding.field) == ("error", "items")
        if count:
            assert f"请删除 {count - allowed.max_items} 种" in finding.message_zh
            assert f"at most {allowed.max_items} drugs" in finding.message_en


def test_an_empty_prescription() -> None:
    [finding] = item_count(draft_of(), patient_of(), Limits())
    assert finding.message_en == "The prescription has no drugs; add at least one."
