"""Pinyin keys of Chinese drug names, so doctors can type "amxl" or "amoxi" for 阿莫西林.

Computed when a drug is saved (and when the seed catalog is loaded) with pypinyin, whose
phrase dictionary reads polyphonic characters as the word does (长春新碱 is chang-chun).
Characters that are not Chinese keep their ASCII letters and digits (维生素B1 is "wssb1");
anything else is dropped, so a key is always lower-case ASCII letters and digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from pypinyin import Style, lazy_pinyin

_NOT_KEY = re.compile(r"[^a-z0-9]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _ascii(segment: str) -> str:
    return _NOT_KEY.sub("", segment.lower())


def initials(name: str) -> str:
    """氨氯地平 → "aldp"."""
    return "".join(
        _NOT_KEY.sub("", part)
        for part in lazy_pinyin(name, style=Style.FIRST_LETTER, errors=_ascii)
    )


def spelled(name: str) -> str:
    """氨氯地平 → "anlvdiping" (ü is written v, as on a keyboard)."""
    return "".join(
        _NOT_KEY.sub("", part) for part in lazy_pinyin(name, style=Style.NORMAL, errors=_ascii)
    )


def keys(generic_name_zh: str, aliases: Iterable[str]) -> tuple[str, str]:
    """(initials, spelled) of the generic name first, then of each Chinese alias not already
    there, as space-separated words (the columns ``pinyin_initials`` and ``pinyin``)."""
    chinese_aliases = [alias for alias in aliases if _HAN.search(alias)]

    def words(convert: Callable[[str], str]) -> str:
        first = convert(generic_name_zh)
        others = dict.fromkeys(convert(alias) for alias in chinese_aliases)
        return " ".join([first, *(key for key in others if key and key != first)])

    return words(initials), words(spelled)
