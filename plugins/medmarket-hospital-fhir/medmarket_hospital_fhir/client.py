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
from medmarket_hospital_fhir.resources import Bundle, OperationOutcome

T = TypeVar("T")
log = logging.getLogger("medmarket.hospital.fhir")

FHIR_JSON = "application/fhir+json"
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
UNREACHABLE = "the hospital's server could not be reached"


class FhirError(Exception):
    """The FHIR server did not give a usable answer (down, slow, refused, malformed)."""


class FhirNotFound(FhirError):
    """The server answered 404 or 410: it has no such resource (or no longer)."""


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
            error = FhirNotFound if response.status_code in (404, 410) else FhirError
            raise error(
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

    async def search(self, resource_type: str, params: dict[str, str], match: type[T]) -> list[T]:
        """``GET <resource_type>?<params>``: the matches (not included resources) of the
        searchset, each read as ``match``; anything else in its place is malformed."""
        bundle = await self.read(resource_type, Bundle, params=params)
        if bundle.resource_type != "Bundle":
            raise FhirError(f"{resource_type} search answered a {bundle.resource_type}")
        found = []
        for entry in bundle.entry:
            if entry.resource is None or (
                entry.search and entry.search.mode not in (None, "match")
            ):
                continue
            kind = entry.resource.get("resourceType")
            if kind is not None and kind != resource_type:
                continue  # an included or unrelated resource
            try:
                found.append(msgspec.convert(entry.resource, match))
            except msgspec.ValidationError as exc:
                raise FhirError(f"malformed {resource_type} in search result: {exc}") from exc
        return found

    async def create(
        self, resource_type: str, resource: dict[str, Any], *, if_none_exist: str
    ) -> tuple[dict[str, Any] | None, str | None]:
        """POST a new resource only if none matches ``if_none_exist`` (a search, e.g.
        ``identifier=<system>|<value>``): 201 is the new one, 200 the one already there.
        Answers the resource the server sent back (None when it sent none) and its
        ``Location`` header."""
        headers = {
            "Content-Type": FHIR_JSON,
            "If-None-Exist": if_none_exist,
            "Prefer": "return=representation",
        }
        request = self._http.build_request(
            "POST", resource_type, content=msgspec.json.encode(resource), headers=headers
        )
        response, body = await self._send(request)
        location = response.headers.get("location") or response.headers.get("content-location")
        if not body.strip():
            return None, location
        return self._decode(resource_type, body, dict[str, Any]), location
