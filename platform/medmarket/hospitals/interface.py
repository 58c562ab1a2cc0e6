"""What crosses between the core and a partner hospital's adapter plugin.

A hospital adapter plugin returns ``HospitalAdapterType`` objects from the
``medmarket_hospital_adapters`` hook. An operator or hospital admin picks one type per
partner hospital and fills its configuration (an instance of ``config_type``, validated by
msgspec); the core then calls ``create(config)`` and awaits the adapter's methods behind the
plugin manager's timeout and error boundary.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from medmarket.health import HealthReport

Title = Literal["主任医师", "副主任医师", "主治医师", "住院医师"]


class LicenceQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Who the core asks about: the licence number as the doctor typed it (trimmed), and the
    real name they applied with."""

    licence_number: str
    full_name: str


class LicenceVerification(msgspec.Struct, frozen=True, kw_only=True):
    """The hospital's answer about one practitioner licence.

    ``valid`` is False when the hospital does not know the licence, the name does not match
    or the hospital marks the practitioner inactive; the other fields are then None.
    ``practice_started_on`` is the day independent practice began (the practice licence was
    first granted); ``licence_expires_on`` None means the hospital did not say. ``evidence``
    is kept verbatim (JSON) with the check so a reviewer can see what the hospital said
    (e.g. the FHIR resource ids and versions it matched); it must hold no secrets.
    """

    valid: bool
    title: Title | None = None
    department: str | None = None
    practice_started_on: dt.date | None = None
    licence_expires_on: dt.date | None = None
    evidence: dict[str, Any] = msgspec.field(default_factory=dict)


class AffiliationQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Who the core asks about, as in ``LicenceQuery``, and the department they applied
    for (None when they named none). A practitioner may hold several roles at one hospital:
    the adapter reports the one in ``department`` when there is one, and ends that one."""

    licence_number: str
    full_name: str
    department: str | None = None


class AffiliationVerification(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the hospital holds an affiliation for the practitioner, and since/until when.

    ``affiliated`` False means the hospital has no current affiliation on record (never had
    one, or it was ended); ``ends_on`` is the last day of a fixed-term (or ended) one.
    """

    affiliated: bool
    department: str | None = None
    specialties: tuple[str, ...] = ()
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    evidence: dict[str, Any] = msgspec.field(default_factory=dict)


@runtime_checkable
class HospitalAdapter(Protocol):
    """One partner hospital's systems, as the core sees them. All methods may be slow or fail:
    the core calls them behind a timeout and turns errors into "hospital not answering"."""

    async def verify_licence(self, query: LicenceQuery) -> LicenceVerification: ...

    async def confirm_affiliation(self, query: AffiliationQuery) -> AffiliationVerification: ...

    async def end_affiliation(self, query: AffiliationQuery, reason: str) -> None:
        """Tell the hospital the platform ended this affiliation (a hospital admin did it).
        A hospital whose systems the platform may only read does nothing here."""
        ...

    async def health(self) -> HealthReport: ...

    async def aclose(self) -> None: ...


class HospitalAdapterType(Protocol):
    """A kind of hospital adapter a plugin offers (e.g. "FHIR R4 server")."""

    id: str
    display_name: str

    # Read-only, so a plugin's own Struct type (``config_type = MyConfig``) fits.
    @property
    def config_type(self) -> type[msgspec.Struct]:
        """A msgspec Struct type; its fields are the configuration form. Fields whose names end
        in ``_secret``, ``password`` or ``token`` are secrets: stored sealed
        (``medmarket.sealed``), opened only to build the adapter, never returned by the API."""
        ...

    def create(self, config: Any) -> HospitalAdapter: ...
