"""Opening hours: windows of wall-clock time per ISO weekday (Monday = 1), in the platform's
calendar. A window closes after it opens and by 24:00; windows of one day do not overlap (one
may start where another ends). The table ``pharmacy_opening_hours`` keeps the same rules (a
check and an exclusion constraint); these name the window that breaks one.

Forms write a day as text, ``"08:00-12:00, 14:00-18:00"`` (``parse_day`` and
``format_day``); an empty day is a closed one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from medmarket.errors import FieldError, InvalidInput
from medmarket.pharmacies.schemas import OpeningWindow

WEEKDAYS = range(1, 8)
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2}):(\d{2})\s*$")
_SEPARATORS = re.compile(r"[,，;；、\n]")


def minutes(wall_time: str) -> int:
    """ "08:30" → 510; "24:00" → 1440."""
    hours, mins = wall_time.split(":")
    return int(hours) * 60 + int(mins)


def checked(windows: Sequence[OpeningWindow], field: str = "opening_hours") -> list[OpeningWindow]:
    """The windows sorted by day and opening time, or a 422 naming each window that closes
    before it opens (``opening_hours[2].closes``) or overlaps one before it on its day
    (``opening_hours[3]``): indexes are the submitted order."""
    errors: list[FieldError] = []
    for index, window in enumerate(windows):
        if minutes(window.closes) <= minutes(window.opens):
            errors.append(
                FieldError(
                    field=f"{field}[{index}].closes",
                    message="closes after it opens",
                    code="closes-before-opens",
                )
            )
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    order = sorted(range(len(windows)), key=lambda i: (windows[i].weekday, windows[i].opens))
    # The window of the day seen so far that closes last: any later one opening before it
    # closes overlaps it.
    latest: OpeningWindow | None = None
    for index in order:
        window = windows[index]
        if latest is not None and latest.weekday != window.weekday:
            latest = None
        if latest is not None and minutes(window.opens) < minutes(latest.closes):
            errors.append(
                FieldError(
                    field=f"{field}[{index}]",
                    message=f"overlaps {latest.opens}-{latest.closes} on the same day",
                    code="overlaps",
                )
            )
        if latest is None or minutes(window.closes) > minutes(latest.closes):
            latest = window
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    return [windows[index] for index in order]


def parse_day(weekday: int, text: str) -> list[OpeningWindow]:
    """A day as a form writes it: windows "08:00-12:00" separated by commas (Chinese ones
    too); empty: closed. Raises ValueError when a window is not written that way."""
    windows: list[OpeningWindow] = []
    for part in _SEPARATORS.split(text):
        if not part.strip():
            continue
        match = _WINDOW.match(part)
        if not match:
            raise ValueError(f"not a window like 08:00-12:00: {part.strip()!r}")
        opens_hour, opens_minute, closes_hour, closes_minute = (int(g) for g in match.groups())
        if opens_hour > 23 or closes_hour > 24 or opens_minute > 59 or closes_minute > 59:
            raise ValueError(f"not a time of day: {part.strip()!r}")
        if closes_hour == 24 and closes_minute:
            raise ValueError(f"a day ends at 24:00: {part.strip()!r}")
        windows.append(
            OpeningWindow(
                weekday=weekday,
                opens=f"{opens_hour:02d}:{opens_minute:02d}",
                closes=f"{closes_hour:02d}:{closes_minute:02d}",
            )
        )
    return windows


def format_day(windows: Iterable[OpeningWindow], weekday: int) -> str:
    """The day's windows as a form shows them: "08:00-12:00, 14:00-18:00"."""
    return ", ".join(f"{w.opens}-{w.closes}" for w in windows if w.weekday == weekday)
