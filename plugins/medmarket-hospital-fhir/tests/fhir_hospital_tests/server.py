"""A small FHIR R4 server for the adapter's tests. Every resource it serves or accepts is
validated by ``fhir.resources`` (an independent implementation of the FHIR models; its
R4B models match R4 for Practitioner, PractitionerRole, Bundle, CapabilityStatement,
ServiceRequest, Task and Appointment), so the adapter is tested against resources a real
server could send. Referrals: it takes ServiceRequests (honouring ``If-None-Exist``),
holds the Tasks and Appointments a test sets as the hospital's decision, and lets a
ServiceRequest be revoked with ``If-Match``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from medmarket.testing.http_recorder import HttpRecorder, Recorded, Reply

LICENCE_SYSTEM = "https://his.example-hospital.cn/fhir/sid/practice-licence"
TITLE_SYSTEM = "https://his.example-hospital.cn/fhir/CodeSystem/clinical-title"
ORGANIZATION = "hz-demo-1"
FHIR_JSON = {"content-type": "application/fhir+json"}


def valid(model: type[Any], resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` as ``fhir.resources`` reads and writes it (raises if it is not valid)."""
    read_back: dict[str, Any] = json.loads(model.model_validate(resource).model_dump_json())
    return read_back


def practitioner(
    resource_id: str,
    licence: str,
    family: str,
    given: str,
    *,
    start: str | None = "2012-07-01",
    end: str | None = "2031-06-30",
    title: str | None = "主任医师",
    active: bool | None = True,
    version: str = "3",
) -> dict[str, Any]:
    qualifications: list[dict[str, Any]] = [
        {
            "identifier": [{"system": LICENCE_SYSTEM, "value": licence}],
            "code": {"text": "医师执业证书"},
            **(
                {"period": {k: v for k, v in (("start", start), ("end", end)) if v}}
                if start or end
                else {}
            ),
        }
    ]
    if title:
        qualifications.append(
            {"code": {"coding": [{"system": TITLE_SYSTEM, "code": "231", "display": title}]}}
        )
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": resource_id,
        "meta": {"versionId": version, "lastUpdated": "2026-01-05T08:00:00+08:00"},
        "identifier": [{"system": LICENCE_SYSTEM, "value": licence}],
        "name": [{"use": "official", "text": family + given, "family": family, "given": [given]}],
        "qualification": qualifications,
    }
    if active is not None:
        resource["active"] = active
    return valid(Practitioner, resource)


def role(
    resource_id: str,
    practitioner_id: str,
    *,
    organization: str = ORGANIZATION,
    active: bool | None = True,
    start: str | None = "2015-01-01",
    end: str | None = None,
    specialties: tuple[str, ...] = ("心内科",),
    version: str = "1",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": resource_id,
        "meta": {"versionId": version},
        "practitioner": {"reference": f"Practitioner/{practitioner_id}"},
        "organization": {"reference": f"Organization/{organization}", "display": "杭州示范医院"},
        "specialty": [{"text": name} for name in specialties],
    }
    if active is not None:
        resource["active"] = active
    period = {k: v for k, v in (("start", start), ("end", end)) if v}
    if period:
        resource["period"] = period
    return valid(PractitionerRole, resource)


def searchset(base: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return valid(
        Bundle,
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(resources),
            "entry": [
                {
                    "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in resources
            ],
        },
    )


def outcome(text: str, code: str = "exception", *, in_details: bool = False) -> dict[str, Any]:
    """An OperationOutcome with ``text`` in ``diagnostics``, or in ``details.text`` where
    many servers put the words meant for people."""
    issue: dict[str, Any] = {"severity": "error", "code": code}
    if in_details:
        issue["details"] = {"text": text}
    else:
        issue["diagnostics"] = text
    return valid(OperationOutcome, {"resourceType": "OperationOutcome", "issue": [issue]})


def has_identifier(resource: dict[str, Any], token: str) -> bool:
    """FHIR token search on ``identifier``: ``system|value``, ``|value`` (no system) or
    ``value`` (any system). Identifiers may lack a system or a value, as real ones do."""
    system, bar, value = token.rpartition("|")
    for identifier in resource.get("identifier", []):
        if identifier.get("value") != value:
            continue
        if not bar or identifier.get("system", "") == system:
            return True
    return False


def reference(resource: dict[str, Any], element: str) -> str | None:
    return (resource.get(element) or {}).get("reference")


# -- the hospital's side of a referral ------------------------------------------------------
REFERRAL_VALUE_SETS = {
    # fhir.resources checks a code's form, not its value set: these are the R4 ones.
    "status": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    "intent": {
        "proposal",
        "plan",
        "directive",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    },
    "priority": {"routine", "urgent", "asap", "stat"},
}
TICKET_SYSTEM = "https://his.example-hospital.cn/fhir/sid/green-channel"


def task(
    resource_id: str,
    service_request_id: str,
    status: str,
    *,
    reason: str | None = None,
    reason_code: str | None = None,
    outputs: tuple[dict[str, Any], ...] = (),
    business_status: str | None = None,
    last_modified: str = "2026-03-02T09:00:00+08:00",
    version: str = "1",
) -> dict[str, Any]:
    """The hospital's Task on a referral (its decision, and outcomes as ``outputs``)."""
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": resource_id,
        "meta": {"versionId": version},
        "status": status,
        "intent": "order",
        "focus": {"reference": f"ServiceRequest/{service_request_id}"},
        "owner": {"reference": f"Organization/{ORGANIZATION}"},
        "lastModified": last_modified,
        "output": list(outputs),
    }
    if reason or reason_code:
        resource["statusReason"] = {
            **({"text": reason} if reason else {}),
            **(
                {"coding": [{"system": "urn:his:reason", "code": reason_code}]}
                if reason_code
                else {}
            ),
        }
    if business_status:
        resource["businessStatus"] = {"text": business_status}
    if not resource["output"]:
        del resource["output"]
    return valid(Task, resource)


def output(kind: str, text: str, at: str | None = None) -> dict[str, Any]:
    """A Task output recording what happened: an annotation with its time, else a string."""
    value = {"valueAnnotation": {"time": at, "text": text}} if at else {"valueString": text}
    return {"type": {"coding": [{"system": "urn:his:referral-outcome", "code": kind}]}, **value}


def appointment(
    resource_id: str,
    service_request_id: str,
    *,
    start: str = "2026-03-03T09:30:00+08:00",
    status: str = "booked",
    ticket: str | None = "LS-20260303-0042",
    location: str | None = "门诊楼3层 心内科诊室5",
    department: str | None = "心血管内科",
    instruction: str | None = "空腹前来，带既往心电图",
    version: str = "1",
) -> dict[str, Any]:
    participants: list[dict[str, Any]] = [
        {"actor": {"reference": "Patient/pt-9", "display": "张三"}, "status": "accepted"}
    ]
    if location:
        participants.append(
            {"actor": {"reference": "Location/loc-5", "display": location}, "status": "accepted"}
        )
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": resource_id,
        "meta": {"versionId": version},
        "status": status,
        "basedOn": [{"reference": f"ServiceRequest/{service_request_id}"}],
        "start": start,
        "end": start.replace("09:30", "10:00"),
        "participant": participants,
        "identifier": [{"system": "urn:his:appointment", "value": f"APT-{resource_id}"}],
    }
    if ticket:
        resource["identifier"].insert(0, {"system": TICKET_SYSTEM, "value": ticket})
    if department:
        resource["serviceType"] = [{"text": department}]
    if instruction:
        resource["patientInstruction"] = instruction
    return valid(Appointment, resource)


def invalid_referral(resource: dict[str, Any]) -> str | None:
    """Why ``resource`` is not a valid R4 ServiceRequest (None when it is)."""
    try:
        valid(ServiceRequest, resource)
    except ValidationError as exc:
        return str(exc)
    for element, codes in REFERRAL_VALUE_SETS.items():
        if element in resource and resource[element] not in codes:
            return f"{element} {resource[element]!r} is not an R4 code"
    return None


@dataclass
class FhirServer:
    """Practitioners, roles and referrals in memory, served over HTTP under ``/fhir``."""

    recorder: HttpRecorder
    practitioners: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    appointments: dict[str, dict[str, Any]] = field(default_factory=dict)
    fhir_version: str = "4.0.1"
    # Like servers that ignore search parameters they do not support.
    ignores_role_filters: bool = False
    # Replaces the normal answer when set (malformed, failing, slow servers).
    override: Callable[[Recorded], Reply] | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    # The hospital's answer to a new ServiceRequest: the Tasks and Appointments it makes.
    decides: Callable[[dict[str, Any]], list[dict[str, Any]]] = lambda referral: []
    # Like servers that answer a create with only a Location (Prefer: return=minimal).
    answers_creates_without_body: bool = False

    @property
    def base_url(self) -> str:
        return self.recorder.url + "/fhir"

    def _store(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            "Practitioner": self.practitioners,
            "PractitionerRole": self.roles,
            "ServiceRequest": self.service_requests,
            "Task": self.tasks,
            "Appointment": self.appointments,
        }[resource_type]

    def add(self, *resources: dict[str, Any]) -> None:
        for resource in resources:
            self._store(resource["resourceType"])[resource["id"]] = resource

    def answer(self, request: Recorded) -> Reply:
        if self.override is not None:
            return self.override(request)
        return self.serve(request)

    def serve(self, request: Recorded) -> Reply:
        """The normal answer (an ``override`` may call it and change what it did)."""
        url = urlsplit(request.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        path = url.path.removeprefix("/fhir/")
        if request.method == "GET" and path == "metadata":
            statement = {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "date": "2026-01-01",
                "kind": "instance",
                "fhirVersion": self.fhir_version,
                "format": ["json"],
            }
            # fhir.resources knows R4B; a server claiming another version is still served.
            valid(CapabilityStatement, {**statement, "fhirVersion": "4.3.0"})
            return Reply(body=statement, headers=FHIR_JSON)
        if request.method == "GET" and path == "Practitioner":
            token = query.get("identifier", "")
            found = [p for p in self.practitioners.values() if has_identifier(p, token)]
            return Reply(body=searchset(self.base_url, found), headers=FHIR_JSON)
        if request.method == "GET" and path == "PractitionerRole":
            found = [
                r
                for r in self.roles.values()
                if self.ignores_role_filters
                or (
                    reference(r, "practitioner") == query.get("practitioner")
                    and reference(r, "organization") == query.get("organization")
                )
            ]
            return Reply(body=searchset(self.base_url, found), headers=FHIR_JSON)
        if path.startswith("PractitionerRole/"):
            return self._instance(request, PractitionerRole, path.split("/", 1)[1])
        if path.startswith("ServiceRequest") or path in ("Task", "Appointment"):
            return self._referrals(request, path, query)
        return Reply(status=404, body=outcome(f"no route {path}", "not-found"), headers=FHIR_JSON)

    def _referrals(self, request: Recorded, path: str, query: dict[str, str]) -> Reply:
        if request.method == "POST" and path == "ServiceRequest":
            return self._create_referral(request)
        if request.method == "GET" and path == "ServiceRequest":
            token = query.get("identifier", "")
            found = [r for r in self.service_requests.values() if has_identifier(r, token)]
            return Reply(body=searchset(self.base_url, found), headers=FHIR_JSON)
        if request.method == "GET" and path == "Task":
            found = [t for t in self.tasks.values() if reference(t, "focus") == query.get("focus")]
            return Reply(body=searchset(self.base_url, found), headers=FHIR_JSON)
        if request.method == "GET" and path == "Appointment":
            found = [
                a
                for a in self.appointments.values()
                if any(r.get("reference") == query.get("based-on") for r in a.get("basedOn", []))
            ]
            return Reply(body=searchset(self.base_url, found), headers=FHIR_JSON)
        if path.startswith("ServiceRequest/"):
            return self._instance(request, ServiceRequest, path.split("/", 1)[1])
        return Reply(status=404, body=outcome(f"no route {path}", "not-found"), headers=FHIR_JSON)

    def _create_referral(self, request: Recorded) -> Reply:
        """FHIR conditional create: with ``If-None-Exist`` (a search), one match is answered
        200 with it, several 412, none creates (201, with ``Location``)."""
        resource = request.json()
        problem = invalid_referral(resource)
        if problem is not None:
            return Reply(status=422, body=outcome(problem, "invalid"), headers=FHIR_JSON)
        condition = parse_qs(request.headers.get("if-none-exist", ""))
        if "identifier" in condition:
            token = condition["identifier"][0]
            matches = [r for r in self.service_requests.values() if has_identifier(r, token)]
            if len(matches) > 1:
                return Reply(status=412, body=outcome("several matches"), headers=FHIR_JSON)
            if matches:
                return Reply(body=matches[0], headers=FHIR_JSON)
        resource_id = f"sr-{len(self.service_requests) + 1}"
        stored = valid(
            ServiceRequest,
            {**resource, "id": resource_id, "meta": {"versionId": "1"}},
        )
        self.service_requests[resource_id] = stored
        self.add(*self.decides(stored))
        location = f"{self.base_url}/ServiceRequest/{resource_id}/_history/1"
        return Reply(
            status=201,
            body=b"" if self.answers_creates_without_body else stored,
            headers={**FHIR_JSON, "Location": location},
        )

    def _instance(self, request: Recorded, model: type[Any], resource_id: str) -> Reply:
        """Read (with its ETag) or update (with ``If-Match``) one stored resource."""
        store = self._store(model.__name__)
        current = store.get(resource_id)
        if current is None:
            return Reply(
                status=404, body=outcome("unknown resource", "not-found"), headers=FHIR_JSON
            )
        etag = f'W/"{current["meta"]["versionId"]}"'
        if request.method == "GET":
            return Reply(body=current, headers={**FHIR_JSON, "ETag": etag})
        if request.headers.get("if-match") != etag:
            return Reply(
                status=412,
                body=outcome("资源已被他人修改（版本不符）", "processing", in_details=True),
                headers=FHIR_JSON,
            )
        problem = invalid_referral(request.json()) if model is ServiceRequest else None
        if problem is not None:
            return Reply(status=422, body=outcome(problem, "invalid"), headers=FHIR_JSON)
        updated = valid(model, request.json())
        updated["meta"] = {"versionId": str(int(current["meta"]["versionId"]) + 1)}
        store[resource_id] = updated
        self.updates.append(updated)
        return Reply(body=updated, headers=FHIR_JSON)
