"""The part of FHIR R4 this adapter reads, as lenient msgspec Structs: unknown elements are
ignored (servers add extensions freely), a wrong type where we read is an error."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any, Literal

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


class Annotation(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    time: str | None = None


ServiceRequestStatus = Literal[
    "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"
]


class ServiceRequest(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A referral as the hospital's server holds it (what the adapter reads back)."""

    resource_type: str
    id: str | None = None
    meta: ResourceMeta | None = None
    status: ServiceRequestStatus
    identifier: list[Identifier] = msgspec.field(default_factory=list)
    performer_type: CodeableConcept | None = None


TaskStatus = Literal[
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
]


class TaskOutput(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    type: CodeableConcept
    value_string: str | None = None
    value_annotation: Annotation | None = None


class Task(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The hospital's work on a referral: its decision and what happened since."""

    resource_type: str
    id: str | None = None
    meta: ResourceMeta | None = None
    status: TaskStatus
    status_reason: CodeableConcept | None = None
    business_status: CodeableConcept | None = None
    focus: Reference | None = None
    last_modified: str | None = None
    output: list[TaskOutput] = msgspec.field(default_factory=list)


AppointmentStatus = Literal[
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
]


class AppointmentParticipant(msgspec.Struct, frozen=True, kw_only=True):
    actor: Reference | None = None


class Appointment(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    resource_type: str
    id: str | None = None
    meta: ResourceMeta | None = None
    status: AppointmentStatus
    identifier: list[Identifier] = msgspec.field(default_factory=list)
    service_type: list[CodeableConcept] = msgspec.field(default_factory=list)
    specialty: list[CodeableConcept] = msgspec.field(default_factory=list)
    start: str | None = None
    description: str | None = None
    comment: str | None = None
    patient_instruction: str | None = None
    participant: list[AppointmentParticipant] = msgspec.field(default_factory=list)
    based_on: list[Reference] = msgspec.field(default_factory=list)


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


def fhir_instant(value: str) -> dt.datetime:
    """A FHIR dateTime to the second with its offset (an instant), as an aware datetime; a
    date alone or a time without an offset is not an instant."""
    if "T" not in value:
        raise ValueError(f"not a FHIR instant: {value!r}")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not a FHIR instant: {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"FHIR instant without an offset: {value!r}")
    return moment
