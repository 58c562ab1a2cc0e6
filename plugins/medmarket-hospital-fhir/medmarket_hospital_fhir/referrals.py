"""Referrals (双向转诊) to a hospital that runs a FHIR R4 server.

* Asking (``accept_referral``): one ``ServiceRequest`` per referral, created with
  ``If-None-Exist: identifier=<REFERRAL_SYSTEM>|<referral id>`` so a retry finds the one it
  made (201 is the new one, 200 the one already there). It is active, intent ``order``,
  categorised and coded "referral" (SNOMED CT 3457005); priority ``routine`` / ``urgent`` /
  ``stat`` (an emergency); the patient a contained ``Patient`` (real name, birth date, sex,
  phone); the requester the referring doctor (display, and the licence number under the
  hospital's ``licence_system``); performer ``Organization/<organization_id>`` and the
  department as ``performerType.text``; ``reasonCode.text`` the reason; ``note`` the
  clinical summary and, for an emergency, what the patient was told to do; ``supportingInfo``
  each attachment by name, type, size and SHA-256 (the hospital downloads it from the
  platform's referral desk).
* The hospital's decision is the ``Task`` whose ``focus`` is that ServiceRequest (the latest
  modified, if several): ``accepted`` / ``in-progress`` / ``on-hold`` / ``completed`` with a
  booked ``Appointment`` (``based-on`` the ServiceRequest; booked, arrived, checked-in,
  fulfilled or noshow, with a start; the earliest if several) is accepted; ``rejected`` /
  ``cancelled`` / ``failed`` is refused with ``statusReason`` (its first coding's code as
  the reason code, else "refused"; its text or display as the reason). No Task, a Task not
  yet decided, or an accepted one with no appointment booked yet: "received". A revoked
  ServiceRequest is refused ("revoked"); one the server does not have is refused
  ("unknown_referral").
* The appointment: ``start`` (an instant with its offset); the place is the display of a
  ``Location`` participant, else ``description``; the department is ``serviceType``, else
  ``specialty``, else the department asked for; the green-channel ticket is the
  appointment's identifier in ``ticket_system`` (configured; until the hospital writes one
  the referral is still "received"), without one configured its first identifier, else
  the appointment's id; the instructions are ``patientInstruction``, else ``comment``.
* Outcomes (``referral_status``) are the Task's ``output`` entries whose type (code, display
  or text; ``-`` and ``_`` alike) is one of seen, admitted, discharged, referred-back,
  no-show, in the order the hospital appended them: ``valueAnnotation`` (its ``time`` is
  when, its text the note) or ``valueString`` (the note, the Task's ``lastModified`` when).
  For referred-back the text is the discharge summary for the follow-up doctor. The event
  id is ``Task/<id>/output/<index>`` (outputs are appended, never reordered). A hospital that
  writes no such outputs but sets ``businessStatus`` to one of them gives that one outcome
  (event id ``Task/<id>/businessStatus/<status>``).
* Cancelling: the ServiceRequest is read with its ETag, set ``revoked`` with the reason as a
  note, and written back with ``If-Match``; one already revoked, completed or unknown to
  the server is left alone. Freeing the appointment is then the hospital's work.

Evidence names the server and each resource (with its version) a decision came from.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import urlencode

import msgspec

from medmarket import (
    OutcomeStatus,
    ReferralAppointment,
    ReferralDecision,
    ReferralOutcome,
    ReferralRequest,
    ReferralStatus,
    Urgency,
)
from medmarket_hospital_fhir.client import FhirClient, FhirError, FhirNotFound
from medmarket_hospital_fhir.resources import (
    Appointment,
    CodeableConcept,
    ServiceRequest,
    Task,
    fhir_instant,
)

if TYPE_CHECKING:
    from medmarket_hospital_fhir.adapter import FhirHospitalConfig

# The platform's own identifier system for its referral ids.
REFERRAL_SYSTEM = "https://medmarket.example/fhir/sid/referral"
ATTACHMENT_SYSTEM = "https://medmarket.example/fhir/sid/attachment-sha256"
REFERRAL_CODING = {
    "system": "http://snomed.info/sct",
    "code": "3457005",
    "display": "Patient referral",
}
PRIORITY: dict[Urgency, str] = {"routine": "routine", "urgent": "urgent", "emergency": "stat"}
CONTAINED_PATIENT = "patient"

ACCEPTED = {"accepted", "in-progress", "on-hold", "completed"}
REFUSED = {"rejected", "cancelled", "failed"}
BOOKED = {"booked", "arrived", "checked-in", "fulfilled", "noshow"}
OUTCOMES: dict[str, OutcomeStatus] = {
    **{status: status for status in get_args(OutcomeStatus)},
    "noshow": "no_show",
}
_REFERENCE = re.compile(r"^ServiceRequest/([A-Za-z0-9\-.]{1,64})$")
# A Location reference: relative or absolute, optionally versioned.
_LOCATION = re.compile(r"(^|/)Location/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?$")


def _text(*values: str | None) -> str | None:
    return next((value.strip() for value in values if value and value.strip()), None)


def _first_word(concepts: list[CodeableConcept]) -> str | None:
    return next((words[0] for concept in concepts if (words := concept.words())), None)


def _version(resource: ServiceRequest | Task | Appointment) -> str | None:
    return resource.meta.version_id if resource.meta else None


def _instant(value: str, where: str) -> dt.datetime:
    try:
        return fhir_instant(value)
    except ValueError as exc:
        raise FhirError(f"{where}: {exc}") from exc


def service_request(
    request: ReferralRequest, *, organization_id: str, licence_system: str
) -> dict[str, Any]:
    """The ServiceRequest that asks the hospital to take ``request``'s patient."""
    if request.requested_at.tzinfo is None:
        raise FhirError("referral requested_at must be timezone-aware")
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": CONTAINED_PATIENT,
        "name": [{"use": "official", "text": request.patient.full_name}],
        "birthDate": request.patient.date_of_birth.isoformat(),
    }
    if request.patient.sex:
        patient["gender"] = request.patient.sex
    if request.patient.phone:
        patient["telecom"] = [{"system": "phone", "value": request.patient.phone, "use": "mobile"}]
    doctor = request.referring_doctor
    where = " ".join(part for part in (doctor.hospital, doctor.department) if part)
    notes = []
    if summary := _text(request.clinical_summary):
        notes.append({"text": summary})
    if advice := _text(request.emergency_advice):
        notes.append({"text": f"已告知患者 Emergency advice given to the patient: {advice}"})
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "contained": [patient],
        "identifier": [{"system": REFERRAL_SYSTEM, "value": request.referral_id}],
        "status": "active",
        "intent": "order",
        "category": [{"coding": [REFERRAL_CODING], "text": "referral"}],
        "priority": PRIORITY[request.urgency],
        "code": {"coding": [REFERRAL_CODING], "text": "referral"},
        "subject": {"reference": f"#{CONTAINED_PATIENT}", "display": request.patient.full_name},
        "authoredOn": request.requested_at.isoformat(),
        "requester": {
            "display": f"{doctor.full_name} ({where})" if where else doctor.full_name,
            "identifier": {"system": licence_system, "value": doctor.licence_number},
        },
        "performerType": {"text": request.department},
        "performer": [{"reference": f"Organization/{organization_id}"}],
    }
    if reason := _text(request.reason):
        resource["reasonCode"] = [{"text": reason}]
    if notes:
        resource["note"] = notes
    if request.attachments:
        resource["supportingInfo"] = [
            {
                "display": f"{a.name} ({a.content_type}, {a.size_bytes} bytes)",
                "identifier": {"system": ATTACHMENT_SYSTEM, "value": a.sha256},
            }
            for a in request.attachments
        ]
    return resource


def _is_for(referral: ServiceRequest, referral_id: str) -> bool:
    return any(i.system == REFERRAL_SYSTEM and i.value == referral_id for i in referral.identifier)


def _outcome_status(concept: CodeableConcept) -> OutcomeStatus | None:
    for word in concept.words():
        key = "_".join(word.strip().casefold().replace("-", " ").replace("_", " ").split())
        if key in OUTCOMES:
            return OUTCOMES[key]
    return None


def outcomes(task: Task) -> list[ReferralOutcome]:
    """What happened to the patient, as the Task's outputs record it (see the module)."""
    when_task = task.last_modified or (task.meta.last_updated if task.meta else None)
    found = []
    for index, output in enumerate(task.output):
        status = _outcome_status(output.type)
        if status is None:
            continue
        annotation = output.value_annotation
        text = (annotation.text if annotation else output.value_string) or ""
        when = (annotation.time if annotation else None) or when_task
        if when is None:
            raise FhirError(f"Task/{task.id} output {index}: no time")
        found.append(
            ReferralOutcome(
                status=status,
                at=_instant(when, f"Task/{task.id} output {index}"),
                note="" if status == "referred_back" else text,
                summary=text if status == "referred_back" else None,
                event_id=f"Task/{task.id}/output/{index}",
            )
        )
    business = _outcome_status(task.business_status) if task.business_status else None
    if not found and business is not None and when_task is not None:
        found.append(
            ReferralOutcome(
                status=business,
                at=_instant(when_task, f"Task/{task.id}"),
                note=_text(task.business_status.text if task.business_status else None) or "",
                event_id=f"Task/{task.id}/businessStatus/{business}",
            )
        )
    return sorted(found, key=lambda outcome: outcome.at)


class Referrals:
    """The referral half of ``FhirHospital``: it asks, reads and cancels referrals."""

    def __init__(self, config: FhirHospitalConfig, client: FhirClient) -> None:
        self.config = config
        self.client = client

    # -- asking ----------------------------------------------------------------------------
    async def accept(self, request: ReferralRequest) -> ReferralDecision:
        resource = service_request(
            request,
            organization_id=self.config.organization_id,
            licence_system=self.config.licence_system,
        )
        condition = urlencode({"identifier": f"{REFERRAL_SYSTEM}|{request.referral_id}"})
        sent, location = await self.client.create(
            "ServiceRequest", resource, if_none_exist=condition
        )
        referral = await self._created(sent, location)
        if not _is_for(referral, request.referral_id):
            raise FhirError(f"ServiceRequest/{referral.id} is not referral {request.referral_id}")
        return await self._decision(referral, request.department)

    async def _created(self, sent: dict[str, Any] | None, location: str | None) -> ServiceRequest:
        """The ServiceRequest the server made (or had): from its answer, else read from the
        ``Location`` it gave (a server that answers with no body)."""
        if sent is not None and sent.get("resourceType") == "ServiceRequest":
            referral = self._convert(sent)
        else:
            path = (location or "").split("/_history/", 1)[0]
            path = path[path.rfind("ServiceRequest/") :] if "ServiceRequest/" in path else ""
            if not _REFERENCE.match(path):
                raise FhirError(
                    f"ServiceRequest create answered no resource and Location {location!r}"
                )
            referral = await self.client.read(path, ServiceRequest)
        if referral.resource_type != "ServiceRequest" or not _REFERENCE.match(
            f"ServiceRequest/{referral.id}"
        ):
            raise FhirError(f"created ServiceRequest has an unusable id {referral.id!r}")
        return referral

    @staticmethod
    def _convert(resource: dict[str, Any]) -> ServiceRequest:
        try:
            return msgspec.convert(resource, ServiceRequest)
        except msgspec.ValidationError as exc:
            raise FhirError(f"malformed ServiceRequest: {exc}") from exc

    # -- reading ---------------------------------------------------------------------------
    async def status(self, referral_id: str, hospital_reference: str | None) -> ReferralStatus:
        referral = await self._find(referral_id, hospital_reference)
        if referral is None:
            return ReferralStatus(
                decision=ReferralDecision(
                    status="refused",
                    reason_code="unknown_referral",
                    reason="the hospital's server has no such referral",
                    hospital_reference=hospital_reference,
                    evidence={"server": self.config.base_url, "service_request": None},
                )
            )
        task = await self._task(referral)
        decision = await self._decision(referral, None, task=task)
        return ReferralStatus(
            decision=None if decision.status == "received" else decision,
            outcomes=tuple(outcomes(task)) if task else (),
        )

    async def _find(
        self, referral_id: str, hospital_reference: str | None
    ) -> ServiceRequest | None:
        """The referral's ServiceRequest, by its reference or else by its identifier; None
        when the server has none."""
        if hospital_reference is None:
            found = await self.client.search(
                "ServiceRequest",
                {"identifier": f"{REFERRAL_SYSTEM}|{referral_id}"},
                ServiceRequest,
            )
            # Servers may ignore search parameters: our identifier decides.
            mine = [r for r in found if _is_for(r, referral_id) and r.id]
            return mine[0] if mine else None
        read = await self._read(referral_id, hospital_reference)
        return read[0] if read else None

    async def _read(
        self, referral_id: str, reference: str
    ) -> tuple[ServiceRequest, dict[str, Any], str | None] | None:
        """The ServiceRequest at ``reference`` (read, as sent and its ETag), which must be
        this referral's; None when the server has none there."""
        if not _REFERENCE.match(reference):
            raise FhirError(f"not a ServiceRequest reference: {reference!r}")
        try:
            resource, etag = await self.client.read_raw(reference)
        except FhirNotFound:
            return None
        referral = self._convert(resource)
        if referral.resource_type != "ServiceRequest" or not _is_for(referral, referral_id):
            raise FhirError(f"{reference} is not referral {referral_id}")
        return referral, resource, etag

    async def _task(self, referral: ServiceRequest) -> Task | None:
        """The hospital's Task on ``referral``: of several, the one modified last."""
        tasks = [
            task
            for task in await self.client.search(
                "Task", {"focus": f"ServiceRequest/{referral.id}"}, Task
            )
            if task.focus is not None
            and task.focus.points_to("ServiceRequest", referral.id or "")
            and task.status != "entered-in-error"
        ]
        if not tasks:
            return None

        def modified(task: Task) -> dt.datetime:
            when = task.last_modified or (task.meta.last_updated if task.meta else None)
            return (
                _instant(when, f"Task/{task.id}")
                if when
                else dt.datetime.min.replace(tzinfo=dt.UTC)
            )

        return max(reversed(tasks), key=modified)

    async def _decision(
        self,
        referral: ServiceRequest,
        department: str | None,
        *,
        task: Task | None = None,
    ) -> ReferralDecision:
        reference = f"ServiceRequest/{referral.id}"
        if task is None:
            task = await self._task(referral)
        evidence: dict[str, Any] = {
            "server": self.config.base_url,
            "service_request": reference,
            "service_request_version": _version(referral),
            "service_request_status": referral.status,
        }
        if task is not None:
            evidence |= {"task": f"Task/{task.id}", "task_version": _version(task)}
            evidence["task_status"] = task.status
        if task is not None and task.status in REFUSED:
            reason = task.status_reason
            code = next((c.code for c in reason.coding if c.code), None) if reason else None
            return ReferralDecision(
                status="refused",
                reason_code=code or "refused",
                reason=_first_word([reason]) if reason else None,
                hospital_reference=reference,
                evidence=evidence,
            )
        if referral.status in ("revoked", "entered-in-error"):
            return ReferralDecision(
                status="refused",
                reason_code="revoked",
                reason="the referral was revoked",
                hospital_reference=reference,
                evidence=evidence,
            )
        received = ReferralDecision(
            status="received", hospital_reference=reference, evidence=evidence
        )
        if task is None or task.status not in ACCEPTED:
            return received
        department = department or (
            _first_word([referral.performer_type]) if referral.performer_type else None
        )
        appointment = await self._appointment(referral, department or "", evidence)
        if appointment is None:
            return received
        return ReferralDecision(
            status="accepted",
            appointment=appointment,
            hospital_reference=reference,
            evidence=evidence,
        )

    async def _appointment(
        self, referral: ServiceRequest, department: str, evidence: dict[str, Any]
    ) -> ReferralAppointment | None:
        """The booked appointment for ``referral`` (the earliest, if several), or None while
        none is booked, or the configured ticket is not on it yet."""
        booked = [
            (_instant(a.start, f"Appointment/{a.id}"), a)
            for a in await self.client.search(
                "Appointment", {"based-on": f"ServiceRequest/{referral.id}"}, Appointment
            )
            if a.status in BOOKED
            and a.start
            and any(r.points_to("ServiceRequest", referral.id or "") for r in a.based_on)
        ]
        if not booked:
            return None
        starts_at, appointment = min(booked, key=lambda pair: pair[0])
        evidence |= {
            "appointment": f"Appointment/{appointment.id}",
            "appointment_version": _version(appointment),
        }
        ticket = self._ticket(appointment)
        if ticket is None:
            evidence["appointment_ticket"] = "missing"
            return None
        place = next(
            (
                p.actor.display
                for p in appointment.participant
                if p.actor and p.actor.display and _LOCATION.search(p.actor.reference or "")
            ),
            None,
        )
        return ReferralAppointment(
            starts_at=starts_at,
            place=_text(place, appointment.description) or "",
            department=_first_word(appointment.service_type)
            or _first_word(appointment.specialty)
            or department,
            ticket=ticket,
            instructions=_text(appointment.patient_instruction, appointment.comment) or "",
        )

    def _ticket(self, appointment: Appointment) -> str | None:
        system = self.config.ticket_system
        values = [
            i.value
            for i in appointment.identifier
            if i.value and (not system or i.system == system)
        ]
        if values:
            return values[0]
        return None if system else f"Appointment/{appointment.id}"

    # -- cancelling ------------------------------------------------------------------------
    async def cancel(self, referral_id: str, hospital_reference: str | None, reason: str) -> None:
        if hospital_reference is None:
            found = await self._find(referral_id, None)
            if found is None:
                return
            hospital_reference = f"ServiceRequest/{found.id}"
        read = await self._read(referral_id, hospital_reference)
        if read is None:
            return
        referral, resource, etag = read
        if referral.status in ("revoked", "completed", "entered-in-error"):
            return
        resource["status"] = "revoked"
        if note := _text(reason):
            notes = resource.get("note", [])
            if not isinstance(notes, list):
                raise FhirError(f"{hospital_reference}: malformed note")
            resource["note"] = [*notes, {"text": f"取消 Cancelled: {note}"}]
        await self.client.update(hospital_reference, resource, etag)
