"""Reading a record's lines: tokens, entries, and the words around a name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.prescriptions.rules.names import contains, entries, names_any, stripped_forms, tokens


def test_tokens_fold_case_and_width_and_split_chinese_by_character() -> None:
    assert tokens("ＰＥＮＩＣＩＬＬＩＮ") == ("penicillin",)
    assert tokens("对青霉素过敏") == ("对", "青", "霉", "素", "过", "敏")
    assert tokens("β-Lactam, 维生素B6") == ("β", "lactam", "维", "生", "素", "b6")


@pytest.mark.parametrize(
    ("line", "cores"),
    [
        ("青霉素过敏", ["青霉素"]),
        ("对青霉素过敏（皮疹）", ["青霉素"]),
        ("Penicillin allergy (rash)", ["penicillin"]),
        ("青霉素、头孢过敏", ["青霉素", "头孢"]),
        ("阿司匹林和布洛芬", ["阿司匹林", "布洛芬"]),
        ("allergic to sulfa drugs", ["sulfa"]),
        ("磺胺类药物过敏史", ["磺胺"]),
        ("penicillin; sulfa / aspirin", ["penicillin", "sulfa", "aspirin"]),
    ],
)
def test_each_entry_stripped_of_the_words_around_it(line: str, cores: list[str]) -> None:
    assert [stripped_forms(entry)[-1] for entry in entries(line)] == [tokens(c) for c in cores]


def test_a_class_is_named_only_by_the_whole_entry() -> None:
    assert names_any("头孢类过敏", ["头孢"])
    assert not names_any("头孢克洛", ["头孢"])
    assert names_any("NSAIDs allergy", ["nsaids"])


@given(st.text(max_size=40), st.text(max_size=10))
def test_reading_never_raises_and_a_token_run_contains_itself(line: str, other: str) -> None:
    for entry in entries(line):
        assert contains(entry, entry)
        assert all(contains(entry, form) for form in stripped_forms(entry))
    assert not contains(tokens(line), ())
    names_any(line, [other])
