"""Money, dates and times as a person reads them: in their locale (Babel's CLDR data) and
their time zone. Storage stays integer minor units and UTC; only this module converts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_skeleton, format_time, get_timezone_name
from babel.numbers import format_currency, format_decimal, get_currency_precision


@cache
def babel_locale(locale: str) -> Locale:
    """``zh-CN`` → Babel's ``zh_Hans_CN``."""
    return Locale.parse(locale, sep="-")


def zone_or(name: str, fallback: str) -> zoneinfo.ZoneInfo:
    """The zone called ``name``; ``fallback`` when this machine does not know it."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(fallback)


def minor_to_major(minor_units: int, currency: str) -> Decimal:
    """1200 fen → Decimal('12.00'): exact, with the currency's own number of decimals."""
    digits = get_currency_precision(currency)
    return Decimal(minor_units).scaleb(-digits)


def major_to_minor(amount: str, currency: str = "CNY") -> int:
    """What a person typed ("50", "49.5") in minor units (4950 fen). ValueError when it is not
    an amount of this currency (not a number, negative, or finer than its smallest unit)."""
    try:
        value = Decimal(amount.strip().replace(",", "").replace("，", ""))
    except ArithmeticError:
        raise ValueError(f"not an amount: {amount!r}") from None
    minor = value.scaleb(get_currency_precision(currency))
    if not value.is_finite() or value < 0 or minor != minor.to_integral_value():
        raise ValueError(f"not an amount: {amount!r}")
    return int(minor)


class Formatter:
    """Bound to one person's locale and zone; templates get it as ``fmt``."""

    def __init__(self, locale: str, time_zone: str, fallback_zone: str = "Asia/Shanghai") -> None:
        self.locale = babel_locale(locale)
        self.zone = zone_or(time_zone, fallback_zone)

    def money(self, minor_units: int, currency: str = "CNY") -> str:
        """``fmt.money(1200)`` → ``¥12.00`` (zh-CN) or ``CN¥12.00`` (en)."""
        return format_currency(minor_to_major(minor_units, currency), currency, locale=self.locale)

    def amount(self, minor_units: int, currency: str = "CNY") -> str:
        """The plain number for an input field: ``4950`` → ``49.5``, ``5000`` → ``50``."""
        return format(minor_to_major(minor_units, currency).normalize(), "f")

    def language(self, code: str) -> str:
        """A language tag in the reader's language: ``zh`` → ``中文`` / ``Chinese``."""
        try:
            name = Locale.parse(code, sep="-").get_display_name(self.locale)
        except (ValueError, TypeError, LookupError):
            return code
        return name or code

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def local(self, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            # A naive time is a bug upstream (storage is timestamptz); refuse to guess its zone.
            raise ValueError("refusing to format a naive datetime; store and pass aware UTC times")
        return value.astimezone(self.zone)

    def date(self, value: dt.datetime | dt.date) -> str:
        """``2026年3月5日周四`` / ``Thu, Mar 5, 2026``."""
        if isinstance(value, dt.datetime):
            value = self.local(value)
        return format_skeleton("yMMMEd", value, locale=self.locale)

    def month(self, period: str) -> str:
        """A calendar month given as ``2026-03``: ``2026年3月`` / ``March 2026``."""
        year, month = (int(part) for part in period.split("-"))
        return format_skeleton("yMMMM", dt.date(year, month, 1), locale=self.locale)

    def time(self, value: dt.datetime) -> str:
        """``14:30`` / ``2:30 PM`` in the person's zone."""
        return format_time(self.local(value), "short", locale=self.locale)

    def datetime(self, value: dt.datetime) -> str:
        """Date and time joined the locale's way: ``2026年3月5日周四 14:30``."""
        pattern = self.locale.datetime_formats["medium"]
        return str(pattern).replace("{1}", self.date(value)).replace("{0}", self.time(value))

    def iso(self, value: dt.datetime) -> str:
        """For ``<time datetime="...">``, so scripts and assistive tech get the exact instant."""
        return self.local(value).isoformat(timespec="minutes")

    def zone_name(self) -> str:
        """``中国时间`` / ``China Time``."""
        return get_timezone_name(self.zone, locale=self.locale)
