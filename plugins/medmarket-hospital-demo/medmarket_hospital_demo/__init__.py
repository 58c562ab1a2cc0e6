"""A demo partner hospital whose staff registry is its adapter configuration.

It answers like a real hospital system would (facts about a licence and an affiliation,
with evidence naming the registry record it matched; referrals accepted from each
department's referral calendar, see ``referrals``) but needs nothing running, so the demo
data and the tests have a cooperative hospital.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Annotated

import msgspec

from medmarket import (
    AffiliationQuery,
    AffiliationVerification,
    HealthReport,
    HospitalAdapterType,
    LicenceQuery,
    LicenceVerification,
    ReferralDecision,
    ReferralRequest,
    ReferralStatus,
    Settings,
    Title,
    hookimpl,
)
from medmarket_hospital_demo.referrals import ReferralClinic, ReferralDesk, same_words

__all__ = [
    "ADAPTER_TYPE_ID",
    "DemoHospital",
    "DemoHospitalConfig",
    "DemoHospitalType",
    "ReferralClinic",
    "StaffRecord",
    "medmarket_hospital_adapters",
]

log = logging.getLogger("medmarket.hospital.demo")

ADAPTER_TYPE_ID = "demo-registry"


class StaffRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One practitioner in the hospital's registry."""

    licence_number: Annotated[str, msgspec.Meta(min_length=5, max_length=40)]
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    title: Title
    department: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    specialties: list[str] = msgspec.field(default_factory=list)
    practice_started_on: dt.date | None = None
    licence_expires_on: dt.date | None = None
    # False: the licence was revoked; the registry then does not confirm it.
    licence_active: bool = True
    # False: the practitioner is on record but not (or no longer) affiliated.
    affiliated: bool = True
    affiliated_since: dt.date | None = None
    affiliation_ends_on: dt.date | None = None


class DemoHospitalConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    hospital_code: Annotated[
        str, msgspec.Meta(min_length=2, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    ]
    staff: list[StaffRecord] = msgspec.field(default_factory=list)
    # One referral calendar per department; a department without one refuses referrals.
    referral_clinics: list[ReferralClinic] = msgspec.field(default_factory=list)
    # Where emergencies go: accepted at once, no calendar place taken.
    emergency_place: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = (
        "急诊科 (Emergency department)"
    )

    def __post_init__(self) -> None:
        departments = [clinic.department for clinic in self.referral_clinics]
        for n, department in enumerate(departments):
            if any(same_words(department, other) for other in departments[:n]):
                raise ValueError(f"referral_clinics: {department!r} has two calendars; give it one")


class DemoHospital:
    def __init__(
        self,
        config: DemoHospitalConfig,
        *,
        time_zone: dt.tzinfo,
        now: Callable[[], dt.datetime],
    ) -> None:
        self.config = config
        self._by_licence = {
            record.licence_number.strip().upper(): record for record in config.staff
        }
        self._referrals = ReferralDesk(
            hospital_code=config.hospital_code,
            clinics=config.referral_clinics,
            emergency_place=config.emergency_place,
            zone=time_zone,
            now=now,
        )

    def _record(self, licence_number: str) -> StaffRecord | None:
        return self._by_licence.get(licence_number.strip().upper())

    def _evidence(self, record: StaffRecord | None, **extra: str) -> dict[str, str]:
        evidence = {"registry": self.config.hospital_code, **extra}
        if record is not None:
            evidence["staff_record"] = record.licence_number
        return evidence

    async def verify_licence(self, query: LicenceQuery) -> LicenceVerification:
        record = self._record(query.licence_number)
        if record is None:
            return LicenceVerification(valid=False, evidence=self._evidence(None, match="none"))
        if not same_words(record.full_name, query.full_name):
            return LicenceVerification(
                valid=False, evidence=self._evidence(record, match="name differs")
            )
        if not record.licence_active:
            return LicenceVerification(
                valid=False, evidence=self._evidence(record, match="licence revoked")
            )
        return LicenceVerification(
            valid=True,
            title=record.title,
            department=record.department,
            practice_started_on=record.practice_started_on,
            licence_expires_on=record.licence_expires_on,
            evidence=self._evidence(record, match="licence and name"),
        )

    async def confirm_affiliation(self, query: AffiliationQuery) -> AffiliationVerification:
        record = self._record(query.licence_number)
        if record is None or not same_words(record.full_name, query.full_name):
            return AffiliationVerification(
                affiliated=False, evidence=self._evidence(None, match="none")
            )
        return AffiliationVerification(
            affiliated=record.affiliated,
            department=record.department,
            specialties=tuple(record.specialties),
            starts_on=record.affiliated_since,
            ends_on=record.affiliation_ends_on,
            evidence=self._evidence(record, match="staff record"),
        )

    async def end_affiliation(self, query: AffiliationQuery, reason: str) -> None:
        # The registry is the configuration: the hospital's admin edits it there.
        log.info(
            "demo hospital %s: affiliation of %s ended (%s)",
            self.config.hospital_code,
            query.licence_number,
            reason,
        )

    async def accept_referral(self, request: ReferralRequest) -> ReferralDecision:
        return self._referrals.accept(request)

    async def referral_status(
        self, referral_id: str, hospital_reference: str | None
    ) -> ReferralStatus:
        return self._referrals.status(referral_id)

    async def cancel_referral(
        self, referral_id: str, hospital_reference: str | None, reason: str
    ) -> None:
        log.info(
            "demo hospital %s: referral %s cancelled (%s)",
            self.config.hospital_code,
            referral_id,
            reason,
        )
        self._referrals.cancel(referral_id)

    async def health(self) -> HealthReport:
        return HealthReport(
            healthy=True,
            detail=(
                f"registry {self.config.hospital_code}: {len(self.config.staff)} staff, "
                f"{len(self.config.referral_clinics)} referral clinics"
            ),
        )

    async def aclose(self) -> None:
        return None


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DemoHospitalType:
    """``time_zone`` is the hospital's calendar (the platform's), in which its referral
    clinics keep their times; ``now`` is the clock (tests fix it)."""

    id = ADAPTER_TYPE_ID
    display_name = "Demo hospital (built-in staff registry)"
    config_type = DemoHospitalConfig

    def __init__(self, *, time_zone: dt.tzinfo, now: Callable[[], dt.datetime] = _utc_now) -> None:
        self.time_zone = time_zone
        self.now = now

    @classmethod
    def from_settings(cls, settings: Settings) -> DemoHospitalType:
        return cls(time_zone=settings.calendar)

    def create(self, config: DemoHospitalConfig) -> DemoHospital:
        return DemoHospital(config, time_zone=self.time_zone, now=self.now)

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True, detail="each hospital's registry is its configuration")


@hookimpl
def medmarket_hospital_adapters(settings: Settings) -> Sequence[HospitalAdapterType]:
    return [DemoHospitalType.from_settings(settings)]
