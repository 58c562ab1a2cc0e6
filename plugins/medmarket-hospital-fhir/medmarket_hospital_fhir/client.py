"""A small FHIR R4 REST client over httpx: timeouts on every call, a bound on how much a
server may send, and every way a server can misbehave turned into one ``FhirError``."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any, TypeVar

import httpx
import msgspec

from medmarket_hospital_fhir.resources import OperationOutcome

T = TypeVar("T")

FHIR_JSON = "application/fhir+json"
MAX_RESPONSE_BYTES = 2 * 1024 * 1024


class FhirError(Exception):
    """The FHIR server did not give a usable answer (down, slow, refused, malformed)."""


def _outcome_text(body: bytes) -> str:
    try:
        outcome = msgspec.json.decode(body, type=OperationOutcome)
    except msgspec.DecodeError:
        return ""
    if outcome.resource_type != "OperationOutcome":
        return ""
    return "; ".join(issue.diagnostics or issue.code or "" for issue in outcome.issue)[:300]


class FhirClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float,
        bearer_token: str | None = None,
        allow_private_networks: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allow_private_networks = allow_private_networks
        headers = {"Accept": FHIR_JSON}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _check_destination(self, url: httpx.URL) -> None:
        """Refuse hosts that resolve to loopback, private or link-local addresses: a base URL
        an admin typed must not make the platform probe its own network. (The check runs
        before each request; DNS answers that change in between are not covered.)"""
        if self.allow_private_networks:
            return
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                url.host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise FhirError(f"{url.host}: cannot be resolved ({exc})") from exc
        for *_, address in found:
            ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
            if not ip.is_global:
                raise FhirError(
                    f"{url.host} resolves to the non-public address {ip}; set "
                    "MEDMARKET_FHIR_ALLOW_PRIVATE_NETWORKS=true if the hospital is reached "
                    "over a private network"
                )

    async def _send(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        await self._check_destination(request.url)
        try:
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
        except httpx.TimeoutException as exc:
            raise FhirError(
                f"{request.url.path}: no answer in time ({type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            raise FhirError(f"{request.url.path}: {type(exc).__name__}: {exc}") from exc
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
