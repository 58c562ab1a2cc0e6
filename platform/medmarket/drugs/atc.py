"""The levels of a WHO ATC code (Anatomical Therapeutic Chemical classification).

A level-5 code names a chemical substance; each shorter prefix is a group that holds it::

    C08CA01  amlodipine
    C08CA    dihydropyridine derivatives          level 4 (chemical subgroup)
    C08C     selective calcium channel blockers   level 3 (pharmacological subgroup)
    C08      calcium channel blockers             level 2 (therapeutic subgroup)
    C        cardiovascular system                level 1 (anatomical main group)

Rules that work by class (an allergy to penicillins, J01CA/J01CE/...; two drugs of one
chemical subgroup as duplicate therapy) compare these prefixes. The database has the same
function, ``atc_level(code, level)``.
"""

from __future__ import annotations

import re

LEVEL_5 = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")
_LENGTHS = (1, 3, 4, 5, 7)


def level(code: str, number: int) -> str:
    """The code's group at ``number`` (1 to 5)."""
    if not LEVEL_5.fullmatch(code):
        raise ValueError(f"not a level-5 ATC code: {code!r}")
    if not 1 <= number <= 5:
        raise ValueError(f"ATC levels are 1 to 5, not {number}")
    return code[: _LENGTHS[number - 1]]


def levels(code: str) -> list[str]:
    """Every level of the code, the anatomical main group first."""
    return [level(code, number) for number in range(1, 6)]
