"""A fake carrier: a local HTTP server speaking CAMARA Quality-On-Demand, which validates
every request the plugin sends and every response it gives against the OpenAPI document
(with openapi-core, independent of the plugin's own code)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from medmarket.testing.http_recorder import HttpRecorder, Recorded, Reply

HERE = Path(__file__).resolve().parent
BASE_PATH = "/quality-on-demand/vwip"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret


# The carrier's contract, vendored unchanged with its licence (see specs/camara-qod/SOURCE.md).
QOD_SPEC_FOLDER = HERE.parent / "specs" / "camara-qod"


@pytest.fixture(scope="session")
def qod_spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The QoD document with the common files where its references point."""
    root = tmp_path_factory.mktemp("camara")
    shutil.copytree(QOD_SPEC_FOLDER, root / "camara-qod")
    shutil.copytree(HERE / "camara_common", root / "common")
    return root / "camara-qod" / "quality-on-demand.yaml"


@pytest.fixture(scope="session")
def qod_openapi(qod_spec_path: Path) -> OpenAPI:
    return OpenAPI.from_file_path(str(qod_spec_path))


class Strictness:
    """The document's "request body strictness" rule (undeclared properties, at any depth,
    are refused), which its schemas alone do not express (they combine parts with allOf)."""

    def __init__(self, spec_path: Path) -> None:
        self.spec_path = spec_path
        self._documents: dict[Path, Any] = {}

    def _document(self, path: Path) -> Any:
        if path not in self._documents:
            self._documents[path] = yaml.safe_load(path.read_text())
        return self._documents[path]

    def _resolve(self, schema: Any, base: Path) -> tuple[Any, Path]:
        while isinstance(schema, dict) and "$ref" in schema:
            file_part, _, pointer = schema["$ref"].partition("#")
            base = (base.parent / file_part).resolve() if file_part else base
            schema = self._document(base)
            for part in pointer.strip("/").split("/"):
                schema = schema[part]
        return schema, base

    def _properties(self, schema: Any, base: Path) -> dict[str, tuple[Any, Path]]:
        schema, base = self._resolve(schema, base)
        found: dict[str, tuple[Any, Path]] = {}
        if not isinstance(schema, dict):
            return found
        for name, sub in schema.get("properties", {}).items():
            found[name] = (sub, base)
        for key in ("allOf", "oneOf", "anyOf"):
            for part in schema.get(key, []):
                found.update(self._properties(part, base))
        return found

    def undeclared(
        self, body: Any, schema: Any, base: Path | None = None, at: str = "$"
    ) -> list[str]:
        base = base or self.spec_path
        if not isinstance(body, dict):
            return []
        declared = self._properties(schema, base)
        problems = [f"{at}.{name}" for name in body if name not in declared]
        for name, value in body.items():
            if name in declared:
                sub, sub_base = declared[name]
                problems += self.undeclared(value, sub, sub_base, f"{at}.{name}")
        return problems

    def check(self, operation_schema: str, body: Any) -> list[str]:
        return self.undeclared(body, {"$ref": f"#/components/schemas/{operation_schema}"})


def chosen_identifier(device: dict[str, Any]) -> dict[str, Any]:
    """Of several device identifiers the network uses one, and names it in the session."""
    for name in ("phoneNumber", "ipv4Address", "ipv6Address"):
        if name in device:
            return {name: device[name]}
    raise ValueError(f"no device identifier in {device}")


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeCarrier:
    openapi: OpenAPI
    strictness: Strictness
    recorder: HttpRecorder = field(init=False)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    tokens_issued: int = 0
    # "unavailable": the network cannot give QoS; "refuse": 422 SERVICE_NOT_APPLICABLE;
    # "slow": answers after ``slow_seconds``.
    mode: str = "normal"
    slow_seconds: float = 5.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.recorder = HttpRecorder(self.respond)

    @property
    def qod_url(self) -> str:
        return self.recorder.url + BASE_PATH

    @property
    def token_url(self) -> str:
        return self.recorder.url + TOKEN_PATH

    def qod_requests(self) -> list[Recorded]:
        return [r for r in self.recorder.requests if r.path.startswith(BASE_PATH)]

    # -- serving ---------------------------------------------------------------------------
    def respond(self, request: Recorded) -> Reply:
        if request.path == TOKEN_PATH:
            with self.lock:
                self.tokens_issued += 1
            return Reply(
                200, {"access_token": "carrier-token", "token_type": "Bearer", "expires_in": 3600}
            )
        mock = MockRequest(
            self.recorder.url,
            request.method.lower(),
            urlsplit(request.path).path,
            headers=request.headers,
            data=request.body or None,
            content_type=request.headers.get("content-type", "application/json"),
        )
        try:
            self.openapi.validate_request(mock)
            undeclared = self._undeclared(request)
            if undeclared:
                raise ValueError(f"undeclared properties {undeclared}")
        except Exception as exc:
            self.violations.append(f"request {request.method} {request.path}: {exc!r}")
            return Reply(400, {"status": 400, "code": "INVALID_ARGUMENT", "message": "invalid"})
        if request.headers.get("authorization") != "Bearer carrier-token":
            self.violations.append("request without the carrier's bearer token")
        reply = self._answer(request)
        response = MockResponse(
            json.dumps(reply.body).encode() if reply.body is not None else b"",
            status_code=reply.status,
            headers={"x-correlator": request.headers.get("x-correlator", "")},
        )
        try:
            self.openapi.validate_response(mock, response)
        except Exception as exc:
            self.violations.append(f"response to {request.method} {request.path}: {exc!r}")
        return reply

    def _undeclared(self, request: Recorded) -> list[str]:
        path = urlsplit(request.path).path
        if request.method == "POST" and path.endswith("/extend"):
            return self.strictness.check("ExtendSessionDuration", request.json())
        if request.method == "POST" and path.endswith("/sessions"):
            return self.strictness.check("CreateSession", request.json())
        if request.method == "POST" and path.endswith("/retrieve-sessions"):
            return self.strictness.check("RetrieveSessionsInput", request.json())
        return []

    def _answer(self, request: Recorded) -> Reply:
        delay = self.slow_seconds if self.mode == "slow" else 0.0
        parts = urlsplit(request.path).path[len(BASE_PATH) :].strip("/").split("/")
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        with self.lock:
            if request.method == "POST" and parts == ["sessions"]:
                if self.mode == "refuse":
                    return Reply(
                        422,
                        {
                            "status": 422,
                            "code": "SERVICE_NOT_APPLICABLE",
                            "message": "The service is not available for the provided identifier.",
                        },
                    )
                body = request.json()
                session = {
                    "sessionId": str(uuid.uuid4()),
                    "applicationServer": body["applicationServer"],
                    "qosProfile": body["qosProfile"],
                    "duration": body["duration"],
                    "device": chosen_identifier(body["device"]),
                    "qosStatus": "AVAILABLE",
                    "startedAt": _timestamp(now),
                    "expiresAt": _timestamp(now + dt.timedelta(seconds=body["duration"])),
                }
                if self.mode == "unavailable":
                    session.update(
                        qosStatus="UNAVAILABLE",
                        statusInfo="NETWORK_TERMINATED",
                        duration=1,
                        expiresAt=_timestamp(now),
                    )
                self.sessions[session["sessionId"]] = session
                return Reply(201, session, delay=delay)
            if request.method == "POST" and parts == ["retrieve-sessions"]:
                device = request.json()["device"]
                mine = [
                    session
                    for session in self.sessions.values()
                    if any(device.get(name) == value for name, value in session["device"].items())
                ]
                return Reply(200, mine, delay=delay)
            session = self.sessions.get(parts[1]) if len(parts) >= 2 else None
            if session is None:
                return Reply(
                    404,
                    {
                        "status": 404,
                        "code": "NOT_FOUND",
                        "message": "The specified resource is not found.",
                    },
                )
            if request.method == "POST" and parts[2:] == ["extend"]:
                extra = request.json()["requestedAdditionalDuration"]
                session["duration"] += extra
                expires = dt.datetime.fromisoformat(session["expiresAt"].replace("Z", "+00:00"))
                session["expiresAt"] = _timestamp(expires + dt.timedelta(seconds=extra))
                return Reply(200, session, delay=delay)
            if request.method == "DELETE" and len(parts) == 2:
                del self.sessions[parts[1]]
                return Reply(204, None, delay=delay)
        return Reply(404, {"status": 404, "code": "NOT_FOUND", "message": "no such operation"})


@pytest.fixture
def strictness(qod_spec_path: Path) -> Strictness:
    return Strictness(qod_spec_path)


@pytest.fixture
def fake_carrier(qod_openapi: OpenAPI, strictness: Strictness) -> Iterator[FakeCarrier]:
    carrier = FakeCarrier(qod_openapi, strictness)
    with carrier.recorder.serving():
        yield carrier
    assert carrier.violations == []
