"""A demo partner hospital whose staff registry is its adapter configuration.

It answers like a real hospital system would (facts about a licence and an affiliation,
with evidence naming the registry record it matched) but needs nothing running, so the
demo data and the tests have a cooperative hospital.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Annotated

import msgspec

from medmarket import (
    AffiliationQuery,
    AffiliationVerification,
    HealthReport,
    HospitalAdapterType,
    LicenceQuery,
    LicenceVerification,
    Settings,
    Title,
    hookimpl,
)

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


def _same_name(left: str, right: str) -> bool:
    return "".join(left.split()).casefold() == "".join(right.split()).casefold()


class DemoHospital:
    def __init__(self, config: DemoHospitalConfig) -> None:
        self.config = config
        self._by_licence = {
            record.licence_number.strip().upper(): record for record in config.staff
        }

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
        if not _same_name(record.full_name, query.full_name):
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
        if record is None or not _same_name(record.full_name, query.full_name):
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

    async def health(self) -> HealthReport:
        return HealthReport(
            healthy=True,
            detail=f"registry {self.config.hospital_code}: {len(self.config.staff)} staff",
        )

    async def aclose(self) -> None:
        return None


class DemoHospitalType:
    id = ADAPTER_TYPE_ID
    display_name = "Demo hospital (built-in staff registry)"
    config_type = DemoHospitalConfig

    def create(self, config: DemoHospitalConfig) -> DemoHospital:
        return DemoHospital(config)

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True, detail="each hospital's registry is its configuration")


@hookimpl
def medmarket_hospital_adapters(settings: Settings) -> Sequence[HospitalAdapterType]:
    return [DemoHospitalType()]
