"""A partner hospital that runs a FHIR R4 server.

* Licence: ``GET Practitioner?identifier=<licence system>|<number>``. The practitioner must
  be the only match, carry the applicant's name and not be inactive. The qualification
  with the same identifier gives the licence's period: its start is the day independent
  practice began, its end the licence's expiry. A qualification coded with one of the four
  clinical titles (主任医师 ...) gives the title.
* Affiliation: ``GET PractitionerRole?practitioner=Practitioner/<id>&organization=
  Organization/<hospital>``; a role of this hospital's organization confirms it, with its
  period and specialties. Of several roles, an active one wins, then one whose specialty is
  the department the doctor applied for, then the one that ends last; the department
  reported is the one that role serves. An inactive role, or none, means no current
  affiliation.
* Ending an affiliation writes to the hospital's server only when the configuration allows
  it (``end_affiliation_writes``): the role becomes inactive, ended today on the platform's
  calendar (Asia/Shanghai), not the UTC date.
* Referrals are ServiceRequests the hospital answers with a Task and an Appointment; that
  half lives in ``referrals.py``.

An adapter lives for one piece of work (one application's checks, one hospital's
re-verification, a connection test), and searches each licence number once in that time:
the licence and the affiliation check, asked at once, share one Practitioner search.
Evidence names the server and the resources (with versions) each answer came from.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, get_args

import msgspec

from medmarket import (
    AffiliationQuery,
    AffiliationVerification,
    HealthReport,
    LicenceQuery,
    LicenceVerification,
    ReferralDecision,
    ReferralRequest,
    ReferralStatus,
    Title,
)
from medmarket_hospital_fhir.client import FhirClient, FhirError
from medmarket_hospital_fhir.referrals import Referrals
from medmarket_hospital_fhir.resources import (
    Bundle,
    CapabilityStatement,
    Practitioner,
    PractitionerRole,
    fhir_date,
)

TITLES: tuple[Title, ...] = get_args(Title)
_PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
BASE_URL_PATTERN = r"^https?://(\[[0-9A-Fa-f:.]+\]|[^\s/?#@:\[\]]+)(:" + _PORT + r")?(/[^\s?#@]*)?$"
_RESOURCE_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class FhirHospitalConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # The FHIR R4 base URL, e.g. https://his.example-hospital.cn/fhir: http or https, a
    # host (a name, an IPv4 or a bracketed IPv6 address), an optional port, no credentials.
    base_url: Annotated[str, msgspec.Meta(pattern=BASE_URL_PATTERN, max_length=500)]
    # The identifier system under which the server records practice licence numbers.
    licence_system: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]
    # This hospital's Organization resource id on that server.
    organization_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
    # Sent as "Authorization: Bearer ..." when set; never shown back by the platform.
    bearer_token: str | None = None
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=30)] = 5.0
    # Whether the platform may mark a role ended on the hospital's server.
    end_affiliation_writes: bool = False
    # The identifier system of the hospital's green-channel tickets on an Appointment; when
    # unset, an appointment's first identifier (else its id) is the ticket.
    ticket_system: Annotated[str, msgspec.Meta(min_length=3, max_length=500)] | None = None


def _compact(text: str) -> str:
    return "".join(text.split()).casefold()


def _names(practitioner: Practitioner) -> list[str]:
    names = []
    for name in practitioner.name:
        if name.text:
            names.append(name.text)
        if name.family or name.given:
            # Chinese names are family name first, written without a space.
            names.append((name.family or "") + "".join(name.given))
            names.append(" ".join([*name.given, name.family or ""]))
    return names


def _version(resource: Practitioner | PractitionerRole) -> str | None:
    return resource.meta.version_id if resource.meta else None


def _department_word(role: PractitionerRole, department: str | None) -> str | None:
    """The role's label for ``department`` (spaces and case aside) when one of its
    specialties names it, else None."""
    if not department:
        return None
    wanted = _compact(department)
    return next(
        (
            word
            for specialty in role.specialty
            for word in specialty.words()
            if _compact(word) == wanted
        ),
        None,
    )


class FhirHospital:
    def __init__(
        self,
        config: FhirHospitalConfig,
        client: FhirClient,
        *,
        today: Callable[[], dt.date],
    ) -> None:
        self.config = config
        self.client = client
        self.today = today
        # Licence number -> the search's result (or its failure), for this adapter's life.
        self._searched: dict[str, list[Practitioner] | FhirError] = {}
        self._searching: dict[str, asyncio.Lock] = {}
        self.referrals = Referrals(config, client)

    # -- licence ---------------------------------------------------------------------------
    async def _practitioners(self, licence_number: str) -> list[Practitioner]:
        """The search for ``licence_number``, made once: a second caller (the affiliation
        check beside the licence check) waits for the first one's answer."""
        value = licence_number.strip()
        async with self._searching.setdefault(value, asyncio.Lock()):
            if value not in self._searched:
                try:
                    self._searched[value] = await self._search_practitioners(value)
                except FhirError as exc:
                    self._searched[value] = exc
            found = self._searched[value]
        if isinstance(found, FhirError):
            raise FhirError(str(found)) from found
        return found

    async def _search_practitioners(self, licence_number: str) -> list[Practitioner]:
        return await self.client.search(
            "Practitioner",
            {"identifier": f"{self.config.licence_system}|{licence_number}"},
            Practitioner,
        )

    def _evidence(self, **facts: Any) -> dict[str, Any]:
        return {"server": self.config.base_url, **facts}

    async def _identify(
        self, licence_number: str, full_name: str
    ) -> tuple[Practitioner | None, dict[str, Any]]:
        """The one practitioner with this licence and name, or None and why not."""
        matches = await self._practitioners(licence_number)
        ids = [f"Practitioner/{p.id}" for p in matches]
        if not matches:
            return None, self._evidence(match="none")
        if len(matches) > 1:
            return None, self._evidence(match="several practitioners", practitioners=ids)
        practitioner = matches[0]
        evidence = self._evidence(practitioner=ids[0], version=_version(practitioner))
        if not any(_compact(name) == _compact(full_name) for name in _names(practitioner)):
            return None, {**evidence, "match": "name differs"}
        if practitioner.active is False:
            return None, {**evidence, "match": "practitioner inactive"}
        return practitioner, {**evidence, "match": "licence and name"}

    async def verify_licence(self, query: LicenceQuery) -> LicenceVerification:
        practitioner, evidence = await self._identify(query.licence_number, query.full_name)
        if practitioner is None:
            return LicenceVerification(valid=False, evidence=evidence)
        number = query.licence_number.strip().upper()
        licence = next(
            (
                q
                for q in practitioner.qualification
                if any(
                    i.system == self.config.licence_system and (i.value or "").upper() == number
                    for i in q.identifier
                )
            ),
            None,
        )
        title = next(
            (
                word
                for q in practitioner.qualification
                if q.code is not None
                for word in q.code.words()
                if word in TITLES
            ),
            None,
        )
        try:
            started = fhir_date(licence.period.start) if licence and licence.period else None
            expires = (
                fhir_date(licence.period.end, period_end=True)
                if licence and licence.period
                else None
            )
        except ValueError as exc:
            raise FhirError(f"Practitioner/{practitioner.id}: {exc}") from exc
        return LicenceVerification(
            valid=True,
            title=title,
            practice_started_on=started,
            licence_expires_on=expires,
            evidence={**evidence, "licence_qualification": licence is not None},
        )

    # -- affiliation -----------------------------------------------------------------------
    async def _roles(self, practitioner_id: str) -> list[tuple[PractitionerRole, dict[str, Any]]]:
        organization = self.config.organization_id
        bundle = await self.client.read(
            "PractitionerRole",
            Bundle,
            params={
                "practitioner": f"Practitioner/{practitioner_id}",
                "organization": f"Organization/{organization}",
                "_count": "50",
            },
        )
        if bundle.resource_type != "Bundle":
            raise FhirError(f"PractitionerRole search answered a {bundle.resource_type}")
        roles = []
        for entry in bundle.entry:
            if entry.resource is None or entry.resource.get("resourceType") != "PractitionerRole":
                continue
            try:
                role = msgspec.convert(entry.resource, PractitionerRole)
            except msgspec.ValidationError as exc:
                raise FhirError(f"malformed PractitionerRole in search result: {exc}") from exc
            # Servers may ignore search parameters they do not support: check both ends.
            if (
                role.practitioner is not None
                and role.practitioner.points_to("Practitioner", practitioner_id)
                and role.organization is not None
                and role.organization.points_to("Organization", organization)
            ):
                roles.append((role, entry.resource))
        return roles

    @staticmethod
    def _current_first(
        role: PractitionerRole, department: str | None
    ) -> tuple[bool, bool, dt.date]:
        """Sort key: active roles first, then the one in ``department`` (the one the doctor
        applied for), then the one that ends last (open-ended last of all)."""
        end = fhir_date(role.period.end, period_end=True) if role.period else None
        in_department = _department_word(role, department) is not None
        return (role.active is not False, in_department, end or dt.date.max)

    async def _current_role(
        self, query: AffiliationQuery
    ) -> tuple[PractitionerRole | None, dict[str, Any], dict[str, Any] | None]:
        practitioner, evidence = await self._identify(query.licence_number, query.full_name)
        if practitioner is None or practitioner.id is None:
            return None, evidence, None
        roles = await self._roles(practitioner.id)
        if not roles:
            return None, {**evidence, "roles": []}, None
        try:
            role, raw = max(roles, key=lambda pair: self._current_first(pair[0], query.department))
        except ValueError as exc:
            raise FhirError(f"PractitionerRole period: {exc}") from exc
        evidence = {
            **evidence,
            "practitioner_role": f"PractitionerRole/{role.id}",
            "role_version": _version(role),
            "roles": [f"PractitionerRole/{r.id}" for r, _ in roles],
        }
        if query.department:
            evidence["department_applied_for"] = query.department
            evidence["department_matched"] = _department_word(role, query.department) is not None
        return role, evidence, raw

    async def confirm_affiliation(self, query: AffiliationQuery) -> AffiliationVerification:
        role, evidence, _ = await self._current_role(query)
        if role is None:
            return AffiliationVerification(affiliated=False, evidence=evidence)
        specialties = tuple(dict.fromkeys(words[0] for s in role.specialty if (words := s.words())))
        try:
            starts_on = fhir_date(role.period.start) if role.period else None
            ends_on = fhir_date(role.period.end, period_end=True) if role.period else None
        except ValueError as exc:
            raise FhirError(f"PractitionerRole/{role.id}: {exc}") from exc
        department = _department_word(role, query.department) or (
            specialties[0] if specialties else None
        )
        return AffiliationVerification(
            affiliated=role.active is not False,
            department=department,
            specialties=specialties,
            starts_on=starts_on,
            ends_on=ends_on,
            evidence=evidence,
        )

    async def end_affiliation(self, query: AffiliationQuery, reason: str) -> None:
        if not self.config.end_affiliation_writes:
            return
        role, _, _ = await self._current_role(query)
        if role is None or role.id is None or role.active is False:
            return
        if not _RESOURCE_ID.match(role.id):
            raise FhirError(f"unusable PractitionerRole id {role.id!r}")
        path = f"PractitionerRole/{role.id}"
        resource, etag = await self.client.read_raw(path)
        resource["active"] = False
        period = dict(resource.get("period") or {})
        period["end"] = self.today().isoformat()
        resource["period"] = period
        await self.client.update(path, resource, etag)

    # -- referrals (see ``referrals.py``) --------------------------------------------------
    async def accept_referral(self, request: ReferralRequest) -> ReferralDecision:
        return await self.referrals.accept(request)

    async def referral_status(
        self, referral_id: str, hospital_reference: str | None
    ) -> ReferralStatus:
        return await self.referrals.status(referral_id, hospital_reference)

    async def cancel_referral(
        self, referral_id: str, hospital_reference: str | None, reason: str
    ) -> None:
        await self.referrals.cancel(referral_id, hospital_reference, reason)

    # -- lifecycle -------------------------------------------------------------------------
    async def health(self) -> HealthReport:
        try:
            capability = await self.client.read("metadata", CapabilityStatement)
        except FhirError as exc:
            return HealthReport(healthy=False, detail=str(exc))
        if capability.resource_type != "CapabilityStatement":
            return HealthReport(healthy=False, detail=f"metadata is a {capability.resource_type}")
        version = capability.fhir_version or "unknown"
        if not version.startswith("4."):
            return HealthReport(healthy=False, detail=f"FHIR {version}, not R4")
        return HealthReport(healthy=True, detail=f"FHIR {version} at {self.config.base_url}")

    async def aclose(self) -> None:
        await self.client.aclose()
