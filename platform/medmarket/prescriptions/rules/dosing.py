"""How many doses an item's frequency gives over its days, in exact arithmetic.

Doses a day: qd 1, bid 2, tid 3, qid 4, q6h 4, q8h 3, q12h 2, qn 1, qod 1/2, qw 1/7. The
first dose is taken on the first day, so a frequency of less than one a day still gives a
dose on day one: qod over 7 days is days 1, 3, 5 and 7 (4 doses), qw over 10 days days 1 and
8 (2): ``ceil(days × doses a day)`` in every case.

``once`` is a single dose, and a supply of one day whatever ``duration_days`` says.

``prn`` (when needed) has no number of doses a patient must take; it is read as "at most":
at most ``PRN_MOST_A_DAY`` doses a day (every 6 hours, the usual "q6h prn"), so a quantity
may fall short of that without a finding, and one beyond it is pointed out (``quantity``).
"""

from __future__ import annotations

import math
from fractions import Fraction

from medmarket.prescriptions.interface import Frequency, ItemDraft

DOSES_A_DAY: dict[Frequency, Fraction] = {
    "qd": Fraction(1),
    "bid": Fraction(2),
    "tid": Fraction(3),
    "qid": Fraction(4),
    "q6h": Fraction(4),
    "q8h": Fraction(3),
    "q12h": Fraction(2),
    "qn": Fraction(1),
    "qod": Fraction(1, 2),
    "qw": Fraction(1, 7),
}
PRN_MOST_A_DAY = Fraction(4)


def supply_days(item: ItemDraft) -> int:
    """The days the item supplies: one for a single dose, else its ``duration_days``."""
    return 1 if item.frequency == "once" else item.duration_days


def doses(frequency: Frequency, days: int) -> int:
    """The doses taken over ``days`` (at most, for ``prn``)."""
    if frequency == "once":
        return 1
    per_day = PRN_MOST_A_DAY if frequency == "prn" else DOSES_A_DAY[frequency]
    return math.ceil(per_day * max(days, 0))
