"""A client for the carrier's CAMARA Quality-On-Demand API (sessions: create, extend,
delete, retrieve by device), speaking exactly what the OpenAPI document says: JSON bodies
with only declared properties, an ``x-correlator`` on every request, bearer tokens. A 401
(CAMARA's "authenticate again") drops the cached client-credentials token and asks once
more with a fresh one.

It speaks the version the configuration names (1.1.0 by default, or the work in progress):
the two differ, for what is sent and read here, only in their base path (``/v1`` or
``/vwip``); the bodies below are valid under both, and their answers parse alike (the
work in progress may describe the application server by a list of addresses, which is
not read back)."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from typing import Any, Literal

import httpx
import msgspec

from medmarket_video_5g.config import PREFIX, CarrierConfig

log = logging.getLogger("medmarket.video.5g")


class QodError(Exception):
    """The carrier answered with an error (``status``/``code`` from its ErrorInfo) or not at
    all."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


# -- bodies (camelCase, as the API names them; omit what is unset) ---------------------------
class DeviceIpv4Address(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    public_address: str
    public_port: int | None = None
    private_address: str | None = None


class Device(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """At least one identifier; given several, the carrier picks one (and says which)."""

    phone_number: str | None = None
    ipv4_address: DeviceIpv4Address | None = None
    ipv6_address: str | None = None


class ApplicationServer(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """An IPv4 and/or an IPv6 address or network (at least one)."""

    ipv4_address: str | None = None
    ipv6_address: str | None = None


class CreateSession(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    device: Device | None = None
    application_server: ApplicationServer
    qos_profile: str
    duration: int


class RetrieveSessionsInput(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    device: Device


class ExtendSessionDuration(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    requested_additional_duration: int


class SessionInfo(msgspec.Struct, kw_only=True, rename="camel"):
    session_id: str
    duration: int
    qos_status: Literal["REQUESTED", "AVAILABLE", "UNAVAILABLE"]
    qos_profile: str
    started_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    status_info: str | None = None


class _ErrorInfo(msgspec.Struct):
    status: int
    code: str
    message: str


class _TokenResponse(msgspec.Struct):
    access_token: str
    expires_in: int = 300


_encoder = msgspec.json.Encoder()
RELEASE_TIMEOUT_SECONDS = 30.0


class QodClient:
    def __init__(self, config: CarrierConfig, *, timeout: float) -> None:
        self.config = config
        self.base = config.qod_base_url
        self.timeout = timeout
        # Finding and deleting sessions releases what costs money, and nobody waits on it
        # but the core, whose guard decides how long: a slow carrier is given time here.
        self._release_timeout = max(timeout, RELEASE_TIMEOUT_SECONDS)
        self._token: tuple[str, float] | None = None

    async def _bearer(self, http: httpx.AsyncClient) -> str:
        if self.config.access_token:
            return self.config.access_token
        if self._token and self._token[1] > time.monotonic():
            return self._token[0]
        assert self.config.token_url and self.config.client_id and self.config.client_secret
        response = await http.post(
            self.config.token_url,
            data={"grant_type": "client_credentials"},
            auth=(self.config.client_id, self.config.client_secret),
        )
        if response.status_code != 200:
            raise QodError(response.status_code, "TOKEN", "the carrier refused our credentials")
        token = msgspec.json.decode(response.content, type=_TokenResponse)
        # Renew a little early so a token never expires in flight (and at once after a 401).
        self._token = (token.access_token, time.monotonic() + max(token.expires_in - 30, 1))
        return token.access_token

    def _forget(self, token: str) -> None:
        """Drop the cached token the carrier refused (unless another call replaced it)."""
        if self._token is not None and self._token[0] == token:
            self._token = None

    async def _send(
        self,
        http: httpx.AsyncClient,
        method: str,
        path: str,
        content: bytes | None,
        correlator: str,
    ) -> tuple[httpx.Response, str]:
        token = await self._bearer(http)
        headers = {
            "authorization": f"Bearer {token}",
            "x-correlator": correlator,
            "accept": "application/json",
        }
        if content is not None:
            headers["content-type"] = "application/json"
        try:
            response = await http.request(
                method, self.base + path, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise QodError(0, "UNREACHABLE", str(exc)) from exc
        return response, token

    async def _call(
        self,
        method: str,
        path: str,
        body: msgspec.Struct | None,
        expected: int,
        *,
        timeout: float | None = None,
    ) -> bytes:
        content = None if body is None else _encoder.encode(body)
        correlator = str(uuid.uuid4())  # one call, even when it is asked twice
        async with httpx.AsyncClient(timeout=timeout or self.timeout) as http:
            response, token = await self._send(http, method, path, content, correlator)
            if response.status_code == 401 and not self.config.access_token:
                # CAMARA's 401 means "authenticate again": the carrier revoked the token, or
                # ended it before the expiry it gave. It refused the request before acting on
                # it, so asking once more, with a fresh token, cannot do anything twice.
                self._forget(token)
                response, _ = await self._send(http, method, path, content, correlator)
                if response.status_code == 401:
                    log.warning("the carrier refused a fresh token too: %s %s", method, path)
            elif response.status_code == 401:
                log.warning("the carrier refused %sACCESS_TOKEN: %s %s", PREFIX, method, path)
        if response.status_code != expected:
            raise qod_error(response)
        return response.content

    async def create_session(self, request: CreateSession) -> SessionInfo:
        raw = await self._call("POST", "/sessions", request, 201)
        return msgspec.json.decode(raw, type=SessionInfo)

    async def extend_session(self, session_id: str, seconds: int) -> SessionInfo:
        raw = await self._call(
            "POST",
            f"/sessions/{session_id}/extend",
            ExtendSessionDuration(requested_additional_duration=seconds),
            200,
        )
        return msgspec.json.decode(raw, type=SessionInfo)

    async def retrieve_sessions(self, device: Device) -> list[SessionInfo]:
        """Our sessions for ``device`` (this API consumer's only, as the carrier keeps them)."""
        raw = await self._call(
            "POST",
            "/retrieve-sessions",
            RetrieveSessionsInput(device=device),
            200,
            timeout=self._release_timeout,
        )
        return msgspec.json.decode(raw, type=list[SessionInfo])

    async def delete_session(self, session_id: str) -> None:
        try:
            await self._call(
                "DELETE", f"/sessions/{session_id}", None, 204, timeout=self._release_timeout
            )
        except QodError as exc:
            if exc.status != 404:  # already gone (expired, or deleted before): done
                raise


def qod_error(response: httpx.Response) -> QodError:
    """The carrier's error answer (CAMARA's ErrorInfo: status, code, message) as a QodError;
    a body that is not one (a gateway's page, say) keeps its HTTP status."""
    try:
        info: Any = msgspec.json.decode(response.content, type=_ErrorInfo)
        return QodError(response.status_code, info.code, info.message)
    except msgspec.DecodeError:
        return QodError(response.status_code, "UNKNOWN", response.text[:200])
