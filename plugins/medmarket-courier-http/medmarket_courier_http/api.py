"""The courier's open API as it is on the wire (``/v1``), and a small client for it.

Every answer is wrapped the way Chinese open platforms wrap theirs: ``{"code": 0, "msg":
"ok", "data": ..., "request_id": ...}``, and an error ``{"code": 42201, "error":
"OUT_OF_SERVICE_AREA", "msg": "...", "field": "receiver.city"}`` with a matching HTTP
status. Money is in fen; times are ISO 8601 with their offset (the courier writes +08:00).

The client turns every way the courier can fail into one of three answers: a refusal
(``CourierRefused``, a result), a request the courier will not take as it is
(``CourierRequestError``, our bug or our data's), or no usable answer at all
(``CourierUnavailable``: timeouts, connection failures, 5xx, malformed bodies), which the core's
guard turns into a 503 and the outbox retries.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from medmarket import CourierRefused, OutboundPolicy, outbound_client

T = TypeVar("T")
log = logging.getLogger("medmarket.courier.http")

MAX_RESPONSE_BYTES = 1024 * 1024
# The courier's error codes that mean "we will not carry this": shown to the patient as a
# refusal (lower-cased: ``out_of_service_area``), never retried.
REFUSALS = frozenset(
    {"OUT_OF_SERVICE_AREA", "COLD_CHAIN_UNAVAILABLE", "OVERWEIGHT", "CARGO_NOT_ACCEPTED"}
)
# A naive time from the courier is China Standard Time, as its documentation says.
CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


class CourierHttpError(Exception):
    """Something went wrong talking to the courier."""


class CourierUnavailable(CourierHttpError):
    """The courier gave no usable answer (down, slow, 5xx, malformed): try again later."""


class CourierTimeout(CourierUnavailable, TimeoutError):
    """The courier did not answer within the configured timeout."""


class CourierRequestError(CourierHttpError):
    """The courier refused the request as it is (HTTP 4xx): bad data, a bad API key, a
    waybill it does not know, an idempotency key reused for another delivery."""

    def __init__(
        self, operation: str, status: int, error: str, message: str, field: str | None = None
    ) -> None:
        where = f" ({field})" if field else ""
        super().__init__(f"{operation}: HTTP {status} {error}{where}: {message}".rstrip(": "))
        self.status = status
        self.error = error
        self.field = field
        self.message = message


class WaybillNotFound(CourierRequestError):
    """The courier does not know this waybill number."""


# -- the wire ------------------------------------------------------------------------------------
class WireAddress(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    name: str
    mobile: str
    province: str
    city: str
    district: str | None = None
    address: str
    postcode: str | None = None


class WireCargo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    weight_g: int
    cold_chain: bool  # always sent: a courier must not assume either way
    description: str
    declared_value_fen: int | None = None


class QuoteRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    out_order_no: str
    sender: WireAddress
    receiver: WireAddress
    cargo: WireCargo


class WaybillRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    out_order_no: str
    sender: WireAddress
    receiver: WireAddress
    cargo: WireCargo
    handover_code: str | None = None
    notify_url: str | None = None


class CancelRequest(msgspec.Struct, frozen=True, kw_only=True):
    reason: str = "cancelled by the platform"


class QuoteAnswer(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: str | None = None
    price_fen: int
    currency: str = "CNY"
    estimated_delivery_at: dt.datetime | None = None


class WaybillAnswer(msgspec.Struct, frozen=True, kw_only=True):
    waybill_no: str
    label_url: str | None = None
    status: str = "ACCEPTED"


class WireProof(msgspec.Struct, frozen=True, kw_only=True):
    signer: str
    signed_at: dt.datetime
    handover_code: str | None = None
    photo_url: str | None = None


class WireEvent(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    status: str
    occurred_at: dt.datetime
    description: str = ""
    failure_code: str | None = None
    proof: WireProof | None = None


class EventsAnswer(msgspec.Struct, frozen=True, kw_only=True):
    waybill_no: str
    status: str | None = None
    events: list[WireEvent] = msgspec.field(default_factory=list)


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """The body of a status call-back the courier POSTs to ``notify_url``."""

    notify_id: str | None = None
    waybill_no: str
    out_order_no: str | None = None
    events: list[WireEvent]


class PingAnswer(msgspec.Struct, frozen=True, kw_only=True):
    server_time: dt.datetime | None = None


class _Envelope(msgspec.Struct, frozen=True, kw_only=True):
    code: int = 0
    msg: str = ""
    error: str | None = None
    field: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"null")
    request_id: str | None = None


_encoder = msgspec.json.Encoder()
_envelope = msgspec.json.Decoder(_Envelope)


def aware(at: dt.datetime) -> dt.datetime:
    """``at`` in UTC; a naive time is the courier's China Standard Time."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=CHINA_STANDARD_TIME)
    return at.astimezone(dt.UTC)


# -- the client ----------------------------------------------------------------------------------
class CourierApi:
    def __init__(
        self, base_url: str, api_key: str, *, timeout_seconds: float, outbound: OutboundPolicy
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/v1"
        self.timeout_seconds = timeout_seconds
        self._api_key = api_key
        self._outbound = outbound

    async def quote(self, request: QuoteRequest) -> QuoteAnswer:
        return await self._call("POST", "/quotes", QuoteAnswer, body=request)

    async def create_waybill(self, request: WaybillRequest) -> WaybillAnswer:
        # The courier keeps the waybill it made for a key and answers it again for a repeat.
        headers = {"idempotency-key": request.out_order_no}
        return await self._call("POST", "/waybills", WaybillAnswer, body=request, headers=headers)

    async def events(self, waybill_no: str) -> EventsAnswer:
        return await self._call(
            "GET", f"/waybills/{quote(waybill_no, safe='')}/events", EventsAnswer
        )

    async def cancel(self, waybill_no: str, reason: CancelRequest) -> None:
        path = f"/waybills/{quote(waybill_no, safe='')}/cancel"
        await self._call("POST", path, dict[str, Any], body=reason)

    async def ping(self) -> PingAnswer:
        return await self._call("GET", "/ping", PingAnswer)

    async def _call(
        self,
        method: str,
        path: str,
        answer: type[T],
        *,
        body: msgspec.Struct | None = None,
        headers: dict[str, str] | None = None,
    ) -> T:
        operation = f"{method} /v1{path}"
        status, raw = await self._send(method, path, body, headers or {}, operation)
        try:
            envelope = _envelope.decode(raw)
        except msgspec.DecodeError:
            if status >= 500:
                raise CourierUnavailable(f"{operation}: HTTP {status}") from None
            if status >= 400:  # a gateway's own page (a 401 or 404 before the courier's API)
                text = raw[:200].decode("utf-8", "replace")
                raise CourierRequestError(operation, status, f"HTTP_{status}", text) from None
            raise CourierUnavailable(
                f"{operation}: HTTP {status}, not the courier's JSON"
            ) from None
        if status >= 500:
            raise CourierUnavailable(
                f"{operation}: HTTP {status} {envelope.error or ''} {envelope.msg}".rstrip()
            )
        if status >= 400 or envelope.code != 0:
            error = envelope.error or str(envelope.code)
            if error in REFUSALS:
                raise CourierRefused(error.lower())
            kind = WaybillNotFound if status == 404 else CourierRequestError
            raise kind(operation, status, error, envelope.msg, envelope.field)
        try:
            data = bytes(envelope.data)
            return msgspec.json.decode(b"{}" if data == b"null" else data, type=answer)
        except msgspec.DecodeError as exc:  # includes ValidationError
            raise CourierUnavailable(f"{operation}: malformed answer: {exc}") from exc

    async def _send(
        self,
        method: str,
        path: str,
        body: msgspec.Struct | None,
        extra_headers: dict[str, str],
        operation: str,
    ) -> tuple[int, bytes]:
        headers = {
            "x-api-key": self._api_key,
            "x-request-id": str(uuid.uuid4()),
            "accept": "application/json",
            **extra_headers,
        }
        content = None
        if body is not None:
            content = _encoder.encode(body)
            headers["content-type"] = "application/json"
        try:
            # httpx's timeout is per read: a server that trickles bytes needs a deadline.
            async with (
                asyncio.timeout(self.timeout_seconds),
                outbound_client(
                    self._outbound, timeout=httpx.Timeout(self.timeout_seconds)
                ) as http,
            ):
                request = http.build_request(
                    method, self.base_url + path, content=content, headers=headers
                )
                response = await http.send(request, stream=True)
                try:
                    received = bytearray()
                    async for chunk in response.aiter_bytes():
                        received.extend(chunk)
                        if len(received) > MAX_RESPONSE_BYTES:
                            raise CourierUnavailable(
                                f"{operation}: answer larger than {MAX_RESPONSE_BYTES} bytes"
                            )
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise CourierTimeout(
                f"{operation}: no answer within {self.timeout_seconds:g} s"
            ) from exc
        except httpx.TransportError as exc:
            cause = exc.__cause__ or exc
            log.warning("courier %s: %s: %s", operation, type(cause).__name__, cause)
            raise CourierUnavailable(f"{operation}: the courier could not be reached") from exc
        return response.status_code, bytes(received)
