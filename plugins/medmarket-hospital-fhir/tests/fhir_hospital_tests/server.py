"""A small FHIR R4 server for the adapter's tests. Every resource it serves or accepts is
validated by ``fhir.resources`` (an independent implementation of the FHIR models; its
R4B models match R4 for Practitioner, PractitionerRole, Bundle and CapabilityStatement), so
the adapter is tested against resources a real server could send."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

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


@dataclass
class FhirServer:
    """Practitioners and roles in memory, served over HTTP under ``/fhir``."""

    recorder: HttpRecorder
    practitioners: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    fhir_version: str = "4.0.1"
    # Like servers that ignore search parameters they do not support.
    ignores_role_filters: bool = False
    # Replaces the normal answer when set (malformed, failing, slow servers).
    override: Callable[[Recorded], Reply] | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.recorder.url + "/fhir"

    def add(self, *resources: dict[str, Any]) -> None:
        for resource in resources:
            store = self.practitioners if resource["resourceType"] == "Practitioner" else self.roles
            store[resource["id"]] = resource

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
            return self._role_instance(request, path.split("/", 1)[1])
        return Reply(status=404, body=outcome(f"no route {path}", "not-found"), headers=FHIR_JSON)

    def _role_instance(self, request: Recorded, role_id: str) -> Reply:
        current = self.roles.get(role_id)
        if current is None:
            return Reply(status=404, body=outcome("unknown role", "not-found"), headers=FHIR_JSON)
        etag = f'W/"{current["meta"]["versionId"]}"'
        if request.method == "GET":
            return Reply(body=current, headers={**FHIR_JSON, "ETag": etag})
        if request.headers.get("if-match") != etag:
            return Reply(
                status=412,
                body=outcome("资源已被他人修改（版本不符）", "processing", in_details=True),
                headers=FHIR_JSON,
            )
        updated = valid(PractitionerRole, request.json())
        updated["meta"] = {"versionId": str(int(current["meta"]["versionId"]) + 1)}
        self.roles[role_id] = updated
        self.updates.append(updated)
        return Reply(body=updated, headers=FHIR_JSON)
