"""Which drug or class a line of a health record names: 青霉素过敏, "Penicillin allergy
(rash)", 对头孢类药物过敏, "sulfa drugs", 阿司匹林、布洛芬.

Text is compared as tokens: NFKC (full-width letters and spaces become ordinary ones), case
folded, each Chinese character a token of its own and each run of letters and digits one
word; everything else separates. So case, spacing and punctuation never matter, and a name
is found inside Chinese text without word breaks (阿莫西林 in 对阿莫西林过敏) but an English
one only as whole words (iron is not in "environment").

A line may hold several entries (、 , ; / and 和 及 or): each is read alone, without what is in
brackets (the reaction: 皮疹, rash). An entry names a drug when one of the drug's names is
in it, or when the entry, stripped of the words around it (对, 过敏, 类, 药物, allergy, drugs),
is in one of the drug's names ("amoxicillin" names "amoxicillin and clavulanic acid") and is
not merely a salt or a generic word (钠, acid). An entry names a class when, stripped, it is
one of the class's names: 头孢类过敏 names cephalosporins, 头孢克洛 does not (it names a drug).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from medmarket.prescriptions.interface import DrugFacts

Tokens = tuple[str, ...]


def _is_chinese(character: str) -> bool:
    point = ord(character)
    return (
        0x3400 <= point <= 0x4DBF
        or 0x4E00 <= point <= 0x9FFF
        or 0xF900 <= point <= 0xFAFF
        or 0x20000 <= point <= 0x3FFFF
    )


def tokens(text: str) -> Tokens:
    """The text's tokens: each Chinese character, and each run of letters and digits,
    case folded."""
    found: list[str] = []
    word: list[str] = []
    for character in unicodedata.normalize("NFKC", text).casefold():
        if _is_chinese(character) or not character.isalnum():
            if word:
                found.append("".join(word))
                word = []
            if _is_chinese(character):
                found.append(character)
        else:
            word.append(character)
    if word:
        found.append("".join(word))
    return tuple(found)


_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
_SEPARATOR_MARKS = re.compile(r"[、,;/|]")
_SEPARATOR_WORDS = frozenset(("和", "及", "与", "或", "and", "or"))
# Words around a name that say nothing of what it is: stripped from either end of an entry.
_PREFIXES = tuple(map(tokens, ("对", "allergic to", "allergy to", "allergy", "allergies")))
_SUFFIXES = tuple(
    map(
        tokens,
        (
            "过敏史",
            "过敏",
            "药物",
            "药品",
            "制剂",
            "抗生素",
            "抗菌药",
            "类",
            "药",
            "allergy",
            "allergies",
            "drug",
            "drugs",
            "medication",
            "medications",
            "medicine",
            "medicines",
            "antibiotic",
            "antibiotics",
            "class",
            "type",
            "group",
            "family",
            "derivatives",
        ),
    )
)
# An entry that is only one of these names no drug, even when a drug's name holds it.
_TOO_GENERAL = frozenset(
    map(
        tokens,
        (
            "钠",
            "钾",
            "钙",
            "镁",
            "盐",
            "酸",
            "盐酸",
            "片",
            "胶囊",
            "注射液",
            "复方",
            "acid",
            "sodium",
            "potassium",
            "calcium",
            "magnesium",
            "hydrochloride",
            "chloride",
            "sulfate",
            "phosphate",
            "acetate",
            "compound",
        ),
    )
)


def contains(outer: Tokens, inner: Tokens) -> bool:
    """Whether ``inner`` is a run of ``outer``'s tokens."""
    if not inner or len(inner) > len(outer):
        return False
    return any(outer[at : at + len(inner)] == inner for at in range(len(outer) - len(inner) + 1))


def entries(text: str) -> list[Tokens]:
    """The entries of one line of a record, each as tokens, brackets left out."""
    unbracketed = _BRACKETS.sub(" ", unicodedata.normalize("NFKC", text))
    found: list[Tokens] = []
    for part in _SEPARATOR_MARKS.split(unbracketed):
        current: list[str] = []
        for token in (*tokens(part), "and"):
            if token not in _SEPARATOR_WORDS:
                current.append(token)
            elif current:
                found.append(tuple(current))
                current = []
    return found


def stripped_forms(entry: Tokens) -> list[Tokens]:
    """The entry and each form of it with the words around it stripped, one at a time
    (非甾体抗炎药过敏, 非甾体抗炎药, 非甾体抗炎); the last holds none of them."""
    forms = [entry]
    changed = True
    while changed:
        changed = False
        current = forms[-1]
        for prefix in _PREFIXES:
            if len(current) > len(prefix) and current[: len(prefix)] == prefix:
                forms.append(current[len(prefix) :])
                changed = True
                break
        else:
            for suffix in _SUFFIXES:
                if len(current) > len(suffix) and current[-len(suffix) :] == suffix:
                    forms.append(current[: -len(suffix)])
                    changed = True
                    break
    return forms


def _meaningful(name: Tokens) -> bool:
    """Enough of a name to find it in other text: two Chinese characters, or a word of
    three letters."""
    if name in _TOO_GENERAL:
        return False
    chinese = sum(1 for token in name if len(token) == 1 and _is_chinese(token))
    return chinese >= 2 or any(len(token) >= 3 for token in name)


def drug_names(drug: DrugFacts) -> list[Tokens]:
    names = (drug.generic_name_zh, drug.generic_name_en, *drug.aliases)
    return [name for name in map(tokens, names) if _meaningful(name)]


def entry_names_drug(entry: Tokens, drug: DrugFacts) -> bool:
    core = stripped_forms(entry)[-1]
    for name in drug_names(drug):
        if contains(entry, name) or (_meaningful(core) and contains(name, core)):
            return True
    return False


def names_drug(text: str, drug: DrugFacts) -> bool:
    """Whether a line of a record (an allergy, a medication) names the drug."""
    return any(entry_names_drug(entry, drug) for entry in entries(text))


def names_any(text: str, names: Iterable[str]) -> bool:
    """Whether an entry of the line, stripped of the words around it, is one of ``names``."""
    wanted = {tokens(name) for name in names}
    return any(form in wanted for entry in entries(text) for form in stripped_forms(entry))
