"""The demo hospital's referral desk (双向转诊): each department's referral calendar, and the
book of the places it gave.

The demo hospital accepts a referral from its own calendar per department and refuses it
when the calendar is full. The demo needs nothing running, so **the demo's calendar lives in
the process's memory; a restart frees it**: one book per ``hospital_code``, shared by every
adapter built for that code (an adapter rebuilt after its configuration changed still knows
the places it gave). That is acceptable for a demo, and nothing else.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Annotated

import msgspec

from medmarket import ReferralAppointment, ReferralDecision, ReferralRequest, ReferralStatus

ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Weekday = Annotated[int, msgspec.Meta(ge=1, le=7)]  # ISO: 1 = Monday … 7 = Sunday

MONDAY_TO_FRIDAY = (1, 2, 3, 4, 5)
# Urgent referrals are seen at the earliest clinic that is still this far ahead, so the
# patient can get there.
URGENT_LEAD = dt.timedelta(hours=1)


class ReferralClinic(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One department's referral calendar: on each of ``weekdays``, at each of ``times``
    (the hospital's local clock), ``places_per_time`` patients are seen at ``place``; the
    calendar is open ``days_ahead`` days from today."""

    department: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    weekdays: Annotated[tuple[Weekday, ...], msgspec.Meta(min_length=1, max_length=7)] = (
        MONDAY_TO_FRIDAY
    )
    times: Annotated[tuple[ClockTime, ...], msgspec.Meta(min_length=1, max_length=48)]
    places_per_time: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    days_ahead: Annotated[int, msgspec.Meta(ge=1, le=365)] = 14
    instructions: Annotated[str, msgspec.Meta(max_length=500)] = ""

    def starts(self, first_day: dt.date, last_day: dt.date, zone: dt.tzinfo) -> list[dt.datetime]:
        """Every clinic time from ``first_day`` to ``last_day`` (both included), in order."""
        clock = sorted({dt.time.fromisoformat(time) for time in self.times})
        days = (first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1))
        return [
            dt.datetime.combine(day, time, tzinfo=zone)
            for day in days
            if day.isoweekday() in self.weekdays
            for time in clock
        ]


def same_words(left: str, right: str) -> bool:
    """Names and departments compare without spaces or case ("心内 科" is "心内科")."""
    return "".join(left.split()).casefold() == "".join(right.split()).casefold()


class _Booked(msgspec.Struct, frozen=True, kw_only=True):
    decision: ReferralDecision
    # The calendar place it holds (None for a refusal or an emergency).
    department: str | None = None
    starts_at: dt.datetime | None = None


class _HospitalBook:
    """The referrals one hospital answered, by the platform's ``referral_id``."""

    def __init__(self) -> None:
        self.by_referral: dict[str, _Booked] = {}
        self.last_number = 0

    def taken(self, department: str, starts_at: dt.datetime) -> int:
        return sum(
            1
            for booked in self.by_referral.values()
            if booked.starts_at == starts_at
            and booked.department is not None
            and same_words(booked.department, department)
        )


# Guarded by a plain lock: nothing awaits while holding it, and it works whichever event
# loop (or thread) the adapter is called from.
_LOCK = threading.Lock()
_BOOKS: dict[str, _HospitalBook] = {}


def _book(hospital_code: str) -> _HospitalBook:
    return _BOOKS.setdefault(hospital_code, _HospitalBook())


def ticket(hospital_code: str, referral_id: str) -> str:
    """The green-channel ticket: ``GC-<hospital_code>-<6 letters or digits>``, the same for
    the same referral."""
    digest = hashlib.sha256(f"{hospital_code}\n{referral_id}".encode()).digest()
    return f"GC-{hospital_code}-{base64.b32encode(digest).decode()[:6]}"


class ReferralDesk:
    """Answers referrals for one hospital from its clinics. ``now`` is the clock and
    ``zone`` the hospital's calendar: clinic times are read there and appointments are
    written there."""

    def __init__(
        self,
        *,
        hospital_code: str,
        clinics: Sequence[ReferralClinic],
        emergency_place: str,
        zone: dt.tzinfo,
        now: Callable[[], dt.datetime],
    ) -> None:
        self.hospital_code = hospital_code
        self.clinics = clinics
        self.emergency_place = emergency_place
        self.zone = zone
        self.now = now

    def _clinic(self, department: str) -> ReferralClinic | None:
        return next((c for c in self.clinics if same_words(c.department, department)), None)

    def accept(self, request: ReferralRequest) -> ReferralDecision:
        with _LOCK:
            book = _book(self.hospital_code)
            known = book.by_referral.get(request.referral_id)
            if known is not None:
                return known.decision
            book.last_number += 1
            reference = f"{self.hospital_code}/referral/{book.last_number}"
            booked = self._decide(request, book, reference)
            book.by_referral[request.referral_id] = booked
            return booked.decision

    def _decide(self, request: ReferralRequest, book: _HospitalBook, reference: str) -> _Booked:
        now = self.now().astimezone(self.zone)
        evidence = {"hospital": self.hospital_code, "urgency": request.urgency}
        if request.urgency == "emergency":
            appointment = ReferralAppointment(
                starts_at=now,
                place=self.emergency_place,
                department=request.department,
                ticket=ticket(self.hospital_code, request.referral_id),
            )
            return _Booked(
                decision=ReferralDecision(
                    status="accepted",
                    appointment=appointment,
                    hospital_reference=reference,
                    evidence={**evidence, "calendar": "emergency department"},
                )
            )
        clinic = self._clinic(request.department)
        if clinic is None:
            return self._refused(
                reference,
                "department_unknown",
                f"{request.department}: no referral clinic at this hospital",
                evidence,
            )
        if request.urgency == "urgent":
            earliest, first_day = now + URGENT_LEAD, now.date()
        else:  # routine: from the next day on
            first_day = now.date() + dt.timedelta(days=1)
            earliest = dt.datetime.combine(first_day, dt.time(), tzinfo=self.zone)
        last_day = now.date() + dt.timedelta(days=clinic.days_ahead)
        for starts_at in clinic.starts(first_day, last_day, self.zone):
            if starts_at >= earliest and book.taken(clinic.department, starts_at) < (
                clinic.places_per_time
            ):
                appointment = ReferralAppointment(
                    starts_at=starts_at,
                    place=clinic.place,
                    department=clinic.department,
                    ticket=ticket(self.hospital_code, request.referral_id),
                    instructions=clinic.instructions,
                )
                return _Booked(
                    decision=ReferralDecision(
                        status="accepted",
                        appointment=appointment,
                        hospital_reference=reference,
                        evidence={**evidence, "calendar": clinic.department},
                    ),
                    department=clinic.department,
                    starts_at=starts_at,
                )
        return self._refused(
            reference,
            "department_full",
            f"{clinic.department}: no free referral place in the next {clinic.days_ahead} days",
            evidence,
        )

    def _refused(self, reference: str, code: str, reason: str, evidence: dict[str, str]) -> _Booked:
        return _Booked(
            decision=ReferralDecision(
                status="refused",
                reason_code=code,
                reason=reason,
                hospital_reference=reference,
                evidence=evidence,
            )
        )

    def status(self, referral_id: str) -> ReferralStatus:
        """The decision it gave (None for a referral it never heard of, or cancelled) and no
        outcomes: the demo's staff record outcomes on the platform."""
        with _LOCK:
            known = _book(self.hospital_code).by_referral.get(referral_id)
        return ReferralStatus(decision=known.decision if known is not None else None)

    def cancel(self, referral_id: str) -> None:
        """Frees the place; the referral is then forgotten (a referral it does not know is
        already cancelled)."""
        with _LOCK:
            _book(self.hospital_code).by_referral.pop(referral_id, None)
