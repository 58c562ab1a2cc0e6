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


# -- referrals (双向转诊) --------------------------------------------------------------------
# routine: within days; urgent: the earliest clinic; emergency: now, at the emergency
# department (the patient was already told what to do: the hospital gets ready for them).
Urgency = Literal["routine", "urgent", "emergency"]


class ReferralPatient(msgspec.Struct, frozen=True, kw_only=True):
    """Who is coming: the real name and facts the platform holds (the patient agreed to
    share them with this hospital for this referral)."""

    full_name: str
    date_of_birth: dt.date
    sex: Literal["female", "male"] | None = None
    phone: str | None = None  # E.164


class ReferringDoctor(msgspec.Struct, frozen=True, kw_only=True):
    full_name: str
    licence_number: str
    hospital: str
    department: str | None = None


class ReferralAttachment(msgspec.Struct, frozen=True, kw_only=True):
    """A file shared in the visit (a CT image, an ECG, a report), named and fingerprinted;
    the hospital's admin downloads it from the platform's referral desk."""

    name: str
    content_type: str
    size_bytes: int
    sha256: str  # hex


class ReferralRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the platform asks a partner hospital to take. ``referral_id`` is the platform's
    own id and the same on every retry: an adapter must treat a repeated id as the same
    referral (answer what it answered, book nothing twice)."""

    referral_id: str
    department: str
    urgency: Urgency
    reason: str
    clinical_summary: str
    patient: ReferralPatient
    referring_doctor: ReferringDoctor
    requested_at: dt.datetime  # aware
    # For an emergency: what the patient was told to do now (e.g. "call 120").
    emergency_advice: str | None = None
    attachments: tuple[ReferralAttachment, ...] = ()


class ReferralAppointment(msgspec.Struct, frozen=True, kw_only=True):
    """When and where the patient is seen. ``ticket`` is the green-channel ticket: shown at
    the department, the patient skips registration (挂号)."""

    starts_at: dt.datetime  # aware
    place: str  # building, floor, room, as the hospital writes it
    department: str
    ticket: str
    # What the hospital asks the patient to bring or do, besides what the platform says
    # for every referral (ID card, insurance card, the ticket, earlier reports).
    instructions: str = ""


# accepted: with an appointment; refused: with a reason the doctor can act on; received: the
# hospital has the request and decides later (the core asks ``referral_status``).
DecisionStatus = Literal["accepted", "refused", "received"]


class ReferralDecision(msgspec.Struct, frozen=True, kw_only=True):
    status: DecisionStatus
    appointment: ReferralAppointment | None = None
    # With "refused": a short code ("department_full", "department_unknown", ...) and the
    # hospital's words.
    reason_code: str | None = None
    reason: str | None = None
    # The hospital's own id of the referral (e.g. "ServiceRequest/123"), handed back to
    # ``referral_status`` and ``cancel_referral``.
    hospital_reference: str | None = None
    evidence: dict[str, Any] = msgspec.field(default_factory=dict)


# What happened to the patient at the hospital, in order: seen (at the appointment),
# admitted, discharged (home, no follow-up on the platform), referred_back (discharged to a
# doctor on the platform for follow-up: a down-referral, 下转), no_show.
OutcomeStatus = Literal["seen", "admitted", "discharged", "referred_back", "no_show"]


class ReferralOutcome(msgspec.Struct, frozen=True, kw_only=True):
    status: OutcomeStatus
    at: dt.datetime  # aware
    note: str = ""
    # The hospital's own id of this event, when it has one: the core applies it once.
    event_id: str | None = None
    # With "referred_back": the discharge summary and what the follow-up doctor should do.
    summary: str | None = None


class ReferralStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A referral as the hospital sees it now: its decision (None, or "received", while it
    still decides) and what has happened since, oldest first."""

    decision: ReferralDecision | None = None
    outcomes: tuple[ReferralOutcome, ...] = ()


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

    async def accept_referral(self, request: ReferralRequest) -> ReferralDecision:
        """Ask the hospital to take a patient. Idempotent by ``request.referral_id``. A
        hospital that takes no referrals online answers refused ("not_accepting")."""
        ...

    async def referral_status(
        self, referral_id: str, hospital_reference: str | None
    ) -> ReferralStatus:
        """The referral as the hospital sees it now (polled while it decides, and until an
        outcome ends it). A hospital whose staff record outcomes on the platform instead
        answers what it answered on ``accept_referral`` and no outcomes."""
        ...

    async def cancel_referral(
        self, referral_id: str, hospital_reference: str | None, reason: str
    ) -> None:
        """The patient or the doctor called it off: free the appointment. Idempotent; a
        referral the hospital does not know is already cancelled."""
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
