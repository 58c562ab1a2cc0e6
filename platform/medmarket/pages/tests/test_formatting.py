"""Money and times in the person's locale and zone (Babel), exact to the fen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from babel.numbers import parse_decimal
from hypothesis import given
from hypothesis import strategies as st

from medmarket.pages.formatting import Formatter, minor_to_major

ZH = Formatter("zh-CN", "Asia/Shanghai")
EN = Formatter("en", "Asia/Shanghai")
INSTANT = dt.datetime(2026, 3, 5, 6, 30, tzinfo=dt.UTC)  # 14:30 in Beijing


def test_money_in_each_locale() -> None:
    assert ZH.money(1200) == "¥12.00"
    assert EN.money(1200) == "CN¥12.00"
    assert ZH.money(123456789) == "¥1,234,567.89"
    assert ZH.money(5) == "¥0.05"
    assert EN.money(-250) == "-CN¥2.50"


def test_currency_decimals_follow_the_currency() -> None:
    assert minor_to_major(1200, "CNY") == Decimal("12.00")
    assert minor_to_major(1200, "JPY") == Decimal(1200)  # yen has no minor unit
    assert EN.money(1200, "JPY") == "¥1,200"


@given(st.integers(min_value=0, max_value=10**12))
def test_money_text_reads_back_to_the_same_fen(fen: int) -> None:
    for formatter, locale in ((ZH, "zh_Hans_CN"), (EN, "en")):
        text = formatter.money(fen)
        number = text.replace("CN¥", "").replace("¥", "")
        assert parse_decimal(number, locale=locale) * 100 == fen


def test_times_are_shown_in_the_persons_zone() -> None:
    assert ZH.datetime(INSTANT) == "2026年3月5日周四 14:30"
    assert EN.datetime(INSTANT) == "Thu, Mar 5, 2026, 2:30\u202fPM"
    berlin = Formatter("en", "Europe/Berlin")
    assert berlin.time(INSTANT) == "7:30\u202fAM"
    # A day boundary: 23:30 UTC is already the next day in Beijing.
    late = dt.datetime(2026, 3, 5, 23, 30, tzinfo=dt.UTC)
    assert ZH.date(late) == "2026年3月6日周五"
    assert ZH.iso(late) == "2026-03-06T07:30+08:00"


def test_months_are_named_the_locales_way() -> None:
    assert ZH.month("2026-03") == "2026年3月"
    assert EN.month("2026-12") == "December 2026"


def test_daylight_saving_is_applied() -> None:
    new_york = Formatter("en", "America/New_York")
    winter = dt.datetime(2026, 1, 15, 17, 0, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 15, 17, 0, tzinfo=dt.UTC)
    assert (new_york.time(winter), new_york.time(summer)) == ("12:00\u202fPM", "1:00\u202fPM")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        ZH.datetime(dt.datetime(2026, 3, 5, 14, 30))  # noqa: DTZ001 - the point of the test


def test_an_unknown_zone_falls_back_instead_of_failing_the_page() -> None:
    assert Formatter("zh-CN", "Mars/Base").time(INSTANT) == "14:30"
    assert Formatter("zh-CN", "Mars/Base", "UTC").time(INSTANT) == "06:30"


def test_zone_names_are_localised() -> None:
    assert ZH.zone_name() == "中国时间"
    assert EN.zone_name() == "China Time"
