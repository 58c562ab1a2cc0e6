"""A child's prescription needs their guardian in the consultation.

A patient younger than ``limits.guardian_age_years`` on the day the prescription is written
may be prescribed for only when their guardian (the account holder who booked for them) is
present. Age is in whole years (周岁), each reached on the birthday. Someone born on
29 February reaches it on 1 March in common years (the later of the two readings, so a
child needs the guardian a day longer, never a day less).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from medmarket.prescriptions.interface import DraftPrescription, Finding, Limits, PatientFacts

RULE = "guardian"


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years from ``born`` to ``day`` (negative when ``day`` comes first)."""
    birthday_to_come = (day.month, day.day) < (born.month, born.day)
    return day.year - born.year - birthday_to_come


def guardian(draft: DraftPrescription, patient: PatientFacts, limits: Limits) -> Iterator[Finding]:
    """An error for a child without their guardian, or a birth date after the day."""
    born, day = patient.date_of_birth, draft.written_on
    if born > day:
        yield Finding(
            rule=RULE,
            severity="error",
            message_zh=(
                f"患者的出生日期（{born.isoformat()}）晚于处方日期（{day.isoformat()}）；"
                "请先核对并更正健康档案。"
            ),
            message_en=(
                f"The patient's date of birth ({born.isoformat()}) is after the prescription's "
                f"date ({day.isoformat()}); check and correct the health record first."
            ),
        )
        return
    age = age_on(born, day)
    if age < limits.guardian_age_years and not patient.guardian_present:
        yield Finding(
            rule=RULE,
            severity="error",
            message_zh=(
                f"患者 {age} 岁，未满 {limits.guardian_age_years} 周岁，"
                "须有监护人在场才能开具处方；请在监护人加入问诊后再开具。"
            ),
            message_en=(
                f"The patient is {age}, younger than {limits.guardian_age_years}: a "
                "prescription needs their guardian in the consultation. Prescribe once the "
                "guardian has joined."
            ),
        )
