"""The part of FHIR R4 this adapter reads, as lenient msgspec Structs: unknown elements are
ignored (servers add extensions freely), a wrong type where we read is an error."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

import msgspec


class Coding(msgspec.Struct, frozen=True, kw_only=True):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(msgspec.Struct, frozen=True, kw_only=True):
    coding: list[Coding] = msgspec.field(default_factory=list)
    text: str | None = None

    def words(self) -> list[str]:
        """Every human-readable label: text first, then each coding's display and code."""
        found = [self.text] if self.text else []
        for coding in self.coding:
            found.extend(value for value in (coding.display, coding.code) if value)
        return found


class Identifier(msgspec.Struct, frozen=True, kw_only=True):
    system: str | None = None
    value: str | None = None


class Period(msgspec.Struct, frozen=True, kw_only=True):
    start: str | None = None
    end: str | None = None


class HumanName(msgspec.Struct, frozen=True, kw_only=True):
    text: str | None = None
    family: str | None = None
    given: list[str] = msgspec.field(default_factory=list)


class Reference(msgspec.Struct, frozen=True, kw_only=True):
    reference: str | None = None
    display: str | None = None

    def points_to(self, resource_type: str, resource_id: str) -> bool:
        """Relative (``Organization/1``) or absolute (``https://x/fhir/Organization/1``),
        optionally versioned (``.../_history/2``)."""
        if not self.reference:
            return False
        path = self.reference.split("/_history/", 1)[0].rstrip("/")
        return path == f"{resource_type}/{resource_id}" or path.endswith(
            f"/{resource_type}/{resource_id}"
        )


class ResourceMeta(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    version_id: str | None = None
    last_updated: str | None = None


class Qualification(msgspec.Struct, frozen=True, kw_only=True):
    identifier: list[Identifier] = msgspec.field(default_factory=list)
    code: CodeableConcept | None = None
    period: Period | None = None


class Practitioner(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    resource_type: str
    id: str | None = None
    meta: ResourceMeta | None = None
    active: bool | None = None
    identifier: list[Identifier] = msgspec.field(default_factory=list)
    name: list[HumanName] = msgspec.field(default_factory=list)
    qualification: list[Qualification] = msgspec.field(default_factory=list)


class PractitionerRole(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    resource_type: str
    id: str | None = None
    meta: ResourceMeta | None = None
    active: bool | None = None
    period: Period | None = None
    practitioner: Reference | None = None
    organization: Reference | None = None
    code: list[CodeableConcept] = msgspec.field(default_factory=list)
    specialty: list[CodeableConcept] = msgspec.field(default_factory=list)


class BundleSearch(msgspec.Struct, frozen=True, kw_only=True):
    mode: str | None = None


class BundleEntry(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    full_url: str | None = None
    resource: dict[str, Any] | None = None
    search: BundleSearch | None = None


class Bundle(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    resource_type: str
    type: str | None = None
    total: int | None = None
    entry: list[BundleEntry] = msgspec.field(default_factory=list)


class Issue(msgspec.Struct, frozen=True, kw_only=True):
    severity: str | None = None
    code: str | None = None
    details: CodeableConcept | None = None
    diagnostics: str | None = None

    def text(self) -> str:
        """What the server says to people: ``details.text`` (where servers put it), else
        ``diagnostics``, else the details' coding, else the bare issue code."""
        if self.details is not None and self.details.text:
            return self.details.text
        if self.diagnostics:
            return self.diagnostics
        words = self.details.words() if self.details is not None else []
        return words[0] if words else self.code or ""


class OperationOutcome(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    resource_type: str
    issue: list[Issue] = msgspec.field(default_factory=list)


class CapabilityStatement(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    resource_type: str
    fhir_version: str | None = None
    software: dict[str, Any] | None = None


# FHIR date / dateTime: YYYY, YYYY-MM, YYYY-MM-DD, or a full timestamp.
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T.*)?$")


def fhir_date(value: str | None, *, period_end: bool = False) -> dt.date | None:
    """The calendar day a FHIR date or dateTime names. A partial date ("2031" or "2031-06")
    covers its whole year or month: as a period's end it means the last day of it."""
    if not value:
        return None
    match = _DATE.match(value.strip())
    if match is None:
        raise ValueError(f"not a FHIR date: {value!r}")
    year = int(match[1])
    month = int(match[2]) if match[2] else (12 if period_end else 1)
    last_day = calendar.monthrange(year, month)[1]
    day = int(match[3]) if match[3] else (last_day if period_end else 1)
    return dt.date(year, month, day)
