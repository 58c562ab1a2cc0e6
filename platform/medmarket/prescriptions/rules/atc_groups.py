"""Which drugs count as "the same kind" by their WHO ATC codes, for cross-reactivity and
duplicate therapy.

Level 4 of the ATC is a chemical, therapeutic or pharmacological subgroup. Where it is a
chemical family (C08CA dihydropyridines, J01CA extended-spectrum penicillins, N05BA
benzodiazepines) its members are alike enough that an allergy to one warns of the others,
and two of them in one prescription are duplicate therapy. Where it is not, the substance
itself (level 5) is the unit:

- WHO's "other" groups, whose fifth character is X (N03AX other antiepileptics, J01XX other
  antibacterials, R06AX other antihistamines), gather unrelated substances: lamotrigine
  with levetiracetam is a combination, not a duplicate, and neither warns of the other.
- Groups by effect whose members are chemically unrelated, for cross-reactivity:
  ``UNRELATED_BY_CHEMISTRY`` (aspirin, clopidogrel and ticagrelor in B01AC; ciclosporin
  and tacrolimus in L04AD; the antidotes).
- Groups whose members are given together by design, for duplicates:
  ``COMBINED_BY_DESIGN`` makes two of them a warning (the doctor states why), not an error:
  dual antiplatelet therapy (aspirin with clopidogrel or ticagrelor, B01AC), a long-acting
  nitrate with sublingual glyceryl trinitrate for attacks (C01DA), a long-acting β2 agonist
  with a short-acting reliever (R03AC).
"""

from __future__ import annotations

from medmarket.drugs.atc import LEVEL_5

UNRELATED_BY_CHEMISTRY = frozenset({"B01AC", "B01AD", "L04AA", "L04AD", "V03AB", "V03AF"})
# Antidotes and the detoxifying agents given with chemotherapy are taken together for
# different ends: one of each is no duplicate.
UNRELATED_BY_PURPOSE = frozenset({"V03AB", "V03AF"})
COMBINED_BY_DESIGN = frozenset({"B01AC", "C01DA", "R03AC"})


def level_4(atc_code: str) -> str | None:
    """The code's chemical subgroup, or None for a code that is not level 5."""
    return atc_code[:5] if LEVEL_5.fullmatch(atc_code) else None


def _other_group(group: str) -> bool:
    return group[4] == "X"


def cross_reactivity_group(atc_code: str) -> str | None:
    """The level-4 group whose other members an allergy to this drug warns of; None where
    only the substance itself counts."""
    group = level_4(atc_code)
    if group is None or _other_group(group) or group in UNRELATED_BY_CHEMISTRY:
        return None
    return group


def duplicate_group(atc_code: str) -> str | None:
    """What two items must share to be duplicate therapy: the level-4 group, or the
    substance (level 5) in groups of unrelated substances; None for a code not level 5."""
    group = level_4(atc_code)
    if group is None:
        return None
    if _other_group(group) or group in UNRELATED_BY_PURPOSE:
        return atc_code
    return group
