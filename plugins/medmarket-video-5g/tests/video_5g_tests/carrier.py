"""A fake carrier: a local HTTP server speaking CAMARA Quality-On-Demand, which validates
every request the plugin sends and every response it gives against the OpenAPI document of
the version in use (with openapi-core, independent of the plugin's own code).

Every test that uses the carrier runs once per version the plugin speaks: 1.1.0 (``v1``,
the default) and the work in progress (``vwip``)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from medmarket.testing.http_recorder import HttpRecorder, Recorded, Reply

HERE = Path(__file__).resolve().parent
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
# The token the test carrier takes as MEDMARKET_5G_ACCESS_TOKEN.
STATIC_TOKEN = "carrier-token"  # noqa: S105 - a test value


# The carrier's contracts, vendored unchanged with their licence (see specs/camara-qod/SOURCE.md).
QOD_SPEC_FOLDER = HERE.parent.parent / "specs" / "camara-qod"
QOD_DOCUMENTS = {
    "v1": QOD_SPEC_FOLDER / "r3.2-stable" / "quality-on-demand.yaml",
    "vwip": QOD_SPEC_FOLDER / "quality-on-demand.yaml",
}


def base_path(version: str) -> str:
    return f"/quality-on-demand/{version}"


class Strictness:
    """The work in progress's "request body strictness" rule (undeclared properties, at any
    depth, are refused), which its schemas alone do not express (they combine parts with
    allOf). 1.1.0 does not state the rule, but a carrier may refuse what it does not know all
    the same: the plugin is held to it under both."""

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


def error_info(status: int, code: str, message: str) -> dict[str, Any]:
    """CAMARA's ErrorInfo, the body of every error answer."""
    return {"status": status, "code": code, "message": message}


NOT_FOUND = error_info(404, "NOT_FOUND", "The specified resource is not found.")
UNAUTHENTICATED = error_info(
    401,
    "UNAUTHENTICATED",
    "Request not authenticated due to missing, invalid, or expired credentials."
    " A new authentication is required.",
)


@dataclass
class FakeCarrier:
    openapi: OpenAPI
    strictness: Strictness
    version: str
    recorder: HttpRecorder = field(init=False)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    # Bearer tokens the carrier takes: the static one, and each it issues (until revoked).
    valid_tokens: set[str] = field(default_factory=lambda: {STATIC_TOKEN})
    tokens_issued: int = 0
    # The tokens it answered 401 to, in order.
    refused_tokens: list[str] = field(default_factory=list)
    # False: every token is refused, even one just issued (our client was blocked, say).
    accepts_tokens: bool = True
    # "unavailable": the network cannot give QoS; "refuse": 422 SERVICE_NOT_APPLICABLE;
    # "requested": sessions are created REQUESTED (the network has not started them yet);
    # "slow": answers after ``slow_seconds``.
    mode: str = "normal"
    slow_seconds: float = 5.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.recorder = HttpRecorder(self.respond)

    @property
    def api_root(self) -> str:
        """The document's ``{apiRoot}``: what ``MEDMARKET_5G_QOD_URL`` names."""
        return self.recorder.url

    @property
    def base_path(self) -> str:
        return base_path(self.version)

    @property
    def qod_base_url(self) -> str:
        return self.api_root + self.base_path

    @property
    def token_url(self) -> str:
        return self.recorder.url + TOKEN_PATH

    def qod_requests(self) -> list[Recorded]:
        return [r for r in self.recorder.requests if r.path.startswith(self.base_path + "/")]

    def revoke_tokens(self) -> None:
        """Every token issued so far (and the static one) stops working, long before the
        expiry the carrier gave."""
        with self.lock:
            self.valid_tokens.clear()

    # -- serving ---------------------------------------------------------------------------
    def respond(self, request: Recorded) -> Reply:
        if request.path == TOKEN_PATH:
            with self.lock:
                self.tokens_issued += 1
                token = f"issued-{self.tokens_issued}"
                self.valid_tokens.add(token)
            return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})
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
            reply = Reply(400, error_info(400, "INVALID_ARGUMENT", f"invalid: {exc}"[:200]))
        else:
            reply = self._authenticate(request) or self._answer(request)
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

    def _authenticate(self, request: Recorded) -> Reply | None:
        """A 401 for a token the carrier does not take (the validator saw there is one)."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            if self.accepts_tokens and token in self.valid_tokens:
                return None
            self.refused_tokens.append(token)
        return Reply(401, UNAUTHENTICATED)

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
        parts = urlsplit(request.path).path.removeprefix(self.base_path).strip("/").split("/")
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        with self.lock:
            if request.method == "POST" and parts == ["sessions"]:
                if self.mode == "refuse":
                    return Reply(
                        422,
                        error_info(
                            422,
                            "SERVICE_NOT_APPLICABLE",
                            "The service is not available for the provided identifier.",
                        ),
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
                if self.mode == "requested":  # no clock yet: neither startedAt nor expiresAt
                    session["qosStatus"] = "REQUESTED"
                    del session["startedAt"], session["expiresAt"]
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
            if len(parts) < 2 or parts[1] not in self.sessions:
                return Reply(404, NOT_FOUND)
            session = self.sessions[parts[1]]
            if request.method == "POST" and parts[2:] == ["extend"]:
                if session["qosStatus"] != "AVAILABLE":
                    return Reply(
                        409,
                        error_info(
                            409,
                            "QUALITY_ON_DEMAND.SESSION_EXTENSION_NOT_ALLOWED",
                            "Extending the session duration is not allowed in the current state"
                            f" ({session['qosStatus']}). The session must be in the AVAILABLE"
                            " state.",
                        ),
                    )
                extra = request.json()["requestedAdditionalDuration"]
                session["duration"] += extra
                expires = dt.datetime.fromisoformat(session["expiresAt"].replace("Z", "+00:00"))
                session["expiresAt"] = _timestamp(expires + dt.timedelta(seconds=extra))
                return Reply(200, session, delay=delay)
            if request.method == "DELETE" and len(parts) == 2:
                del self.sessions[parts[1]]
                return Reply(204, None, delay=delay)
            if request.method == "GET" and len(parts) == 2:
                return Reply(200, session, delay=delay)
        return Reply(404, NOT_FOUND)
