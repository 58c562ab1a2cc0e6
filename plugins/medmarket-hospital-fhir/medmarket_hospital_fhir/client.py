"""A small FHIR R4 REST client over httpx: timeouts on every call, a bound on how much a
server may send, and every way a server can misbehave turned into one ``FhirError``.

Connections go through the platform's ``outbound_client``: a base URL that resolves to a
non-public address outside the operator's allowed networks is never connected to. Every
connection failure (refused by that rule, refused by the host, DNS, TLS, timeout, a peer
that does not speak HTTP) reads the same, ``UNREACHABLE``, to whoever sees the error; what
actually happened goes to the server log only, so an admin's base URL cannot map ports.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TypeVar

import httpx
import msgspec

from medmarket import OutboundPolicy, outbound_client
from medmarket_hospital_fhir.resources import OperationOutcome

T = TypeVar("T")
log = logging.getLogger("medmarket.hospital.fhir")

FHIR_JSON = "application/fhir+json"
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
UNREACHABLE = "the hospital's server could not be reached"


class FhirError(Exception):
    """The FHIR server did not give a usable answer (down, slow, refused, malformed)."""


def _outcome_text(body: bytes) -> str:
    try:
        outcome = msgspec.json.decode(body, type=OperationOutcome)
    except msgspec.DecodeError:
        return ""
    if outcome.resource_type != "OperationOutcome":
        return ""
    return "; ".join(text for issue in outcome.issue if (text := issue.text()))[:300]


class FhirClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float,
        outbound: OutboundPolicy,
        bearer_token: str | None = None,
    ) -> None:
        headers = {"Accept": FHIR_JSON}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self._http = outbound_client(
            outbound,
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        try:
            # httpx's timeout is per read: a server that trickles bytes needs a deadline.
            async with asyncio.timeout(self.timeout_seconds):
                response = await self._http.send(request, stream=True)
                try:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body.extend(chunk)
                        if len(body) > MAX_RESPONSE_BYTES:
                            raise FhirError(
                                f"{request.url.path}: answer larger than {MAX_RESPONSE_BYTES} bytes"
                            )
                finally:
                    await response.aclose()
        except (httpx.TransportError, TimeoutError) as exc:
            # Refused, unreachable, slow, TLS, not HTTP: one message outside, the log knows.
            cause = exc.__cause__ or exc
            log.warning(
                "FHIR %s %s: %s: %s", request.method, request.url, type(cause).__name__, cause
            )
            raise FhirError(UNREACHABLE) from exc
        if response.status_code >= 400:
            detail = _outcome_text(bytes(body))
            raise FhirError(
                f"{request.url.path}: HTTP {response.status_code}"
                + (f": {detail}" if detail else "")
            )
        return response, bytes(body)

    def _decode(self, path: str, body: bytes, answer: type[T]) -> T:
        try:
            return msgspec.json.decode(body, type=answer)
        except msgspec.DecodeError as exc:  # includes ValidationError
            raise FhirError(f"{path}: malformed FHIR JSON: {exc}") from exc

    async def read(self, path: str, answer: type[T], params: dict[str, str] | None = None) -> T:
        """GET ``path`` (relative to the base URL) as ``answer``."""
        request = self._http.build_request("GET", path, params=params)
        _, body = await self._send(request)
        return self._decode(path, body, answer)

    async def read_raw(self, path: str) -> tuple[dict[str, Any], str | None]:
        """GET a resource as plain JSON with its ETag, to change it and put it back whole."""
        request = self._http.build_request("GET", path)
        response, body = await self._send(request)
        return self._decode(path, body, dict[str, Any]), response.headers.get("etag")

    async def update(self, path: str, resource: dict[str, Any], etag: str | None) -> None:
        """PUT a changed resource; with its ETag, a concurrent change makes the server
        refuse (412) instead of losing it."""
        headers = {"Content-Type": FHIR_JSON}
        if etag:
            headers["If-Match"] = etag
        request = self._http.build_request(
            "PUT", path, content=msgspec.json.encode(resource), headers=headers
        )
        await self._send(request)
