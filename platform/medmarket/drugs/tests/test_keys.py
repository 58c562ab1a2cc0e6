"""ATC levels are prefixes of a level-5 code; pinyin keys are lower-case ASCII, the same every
time, one initial per Chinese character, whatever a name holds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.drugs import atc, pinyin

KEY = re.compile(r"[a-z0-9]*")
# The migration's check on the stored columns.
STORED = re.compile(r"[a-z0-9]*( [a-z0-9]+)*")
# Characters of real drug names: every one has a reading.
HAN = sorted(
    set(
        "阿莫西林氨氯地平二甲双胍卡波糖奥美拉唑头孢曲松吗啡地西泮曲马多麻黄碱可待因硝苯"
        "胰岛素精蛋白甘门冬左甲状腺钠对乙酰基酚布洛芬沙丁胺醇异丙托溴铵噻吗罗哌卡因"
        "长春新碱重组人干扰素缬坦厄贝米替伐他汀瑞舒普利诺孕酮睾绒促性"
    )
)


def test_atc_levels_are_the_codes_prefixes() -> None:
    assert atc.levels("C08CA01") == ["C", "C08", "C08C", "C08CA", "C08CA01"]
    assert atc.level("J01CA04", 4) == "J01CA"
    assert atc.level("J01CA04", 3) == atc.level("J01CE01", 3) == "J01C"  # both penicillins
    for bad in ("C08CA", "c08ca01", "C8CA01", "C08CA011"):
        with pytest.raises(ValueError, match="level-5"):
            atc.levels(bad)
    with pytest.raises(ValueError, match="1 to 5"):
        atc.level("C08CA01", 6)


@pytest.mark.parametrize(
    ("name", "initials", "spelled"),
    [
        ("阿卡波糖", "akbt", "akabotang"),
        ("氨氯地平", "aldp", "anlvdiping"),
        ("长春新碱", "ccxj", "changchunxinjian"),  # 长 as in 长春, not zhang
        ("地尔硫䓬", "delz", "dierliuzhuo"),
        ("维生素B1", "wssb1", "weishengsub1"),
        ("碘[131I]化钠", "d131ihn", "dian131ihuana"),
        ("重组人干扰素α2b", "czrgrs2b", "chongzurenganraosu2b"),
    ],
)
def test_pinyin_keys_of_real_names(name: str, initials: str, spelled: str) -> None:
    assert (pinyin.initials(name), pinyin.spelled(name)) == (initials, spelled)


def test_the_generic_names_keys_come_first_then_chinese_aliases() -> None:
    assert pinyin.keys("对乙酰氨基酚", ["acetaminophen", "扑热息痛"]) == (
        "dyxajf prxt",
        "duiyixiananjifen purexitong",
    )
    assert pinyin.keys("硝苯地平", ["心痛定", "心痛定"]) == (
        "xbdp xtd",
        "xiaobendiping xintongding",
    )


@given(st.text(max_size=30), st.lists(st.text(max_size=20), max_size=5))
def test_keys_of_any_text_are_what_the_database_stores(name: str, aliases: list[str]) -> None:
    initials, spelled = pinyin.keys(name, aliases)
    assert STORED.fullmatch(initials) and STORED.fullmatch(spelled)
    assert pinyin.keys(name, aliases) == (initials, spelled)  # stable


@given(st.lists(st.sampled_from(HAN), min_size=1, max_size=12).map("".join))
def test_each_chinese_character_has_one_initial(name: str) -> None:
    initials = pinyin.initials(name)
    assert KEY.fullmatch(initials) and len(initials) == len(name)
    assert pinyin.spelled(name).startswith(initials[0])
