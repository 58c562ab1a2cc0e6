"""A local HTTP courier for the plugin's tests and the platform's integration tests.

It speaks the courier's open API (``/v1``, see the plugin's README) with its own code, not
the plugin's: it checks the API key and every field it is sent (an unknown one is a 400),
keeps waybills by idempotency key, records every request, adds fields the plugin does not
know to its answers (as a courier's next version would), and signs its call-backs itself.

    with courier_server() as courier:
        environ = courier.environment()           # MEDMARKET_COURIER_HTTP_* for the plugin
        ...dispatch through the platform...
        waybill = courier.waybill_for(reference)  # what the plugin created
        courier.advance(waybill.waybill_no, "picked_up")
        courier.advance(waybill.waybill_no, "delivered")   # with proof: signer, code, photo
        signed = courier.callback(waybill.waybill_no)      # headers + body, as it would POST
        await courier.post_callback(signed)                # to the waybill's notify_url

Misbehaviour, until ``behave()``: ``slow(seconds)``, ``fail_with(503)``, ``refuse_cold_chain()``,
``refuse_city("拉萨")``; ``lose(no)`` loses a parcel (in transit, then failed: ``LOST``).
Call-backs that must be refused: ``forged(no)`` (the wrong secret), ``stale(no)`` (an hour
old), ``tampered(signed)`` (the body changed after signing); a replay is the same
``SignedCallback`` read or posted twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from medmarket.testing.http_recorder import HttpRecorder, Recorded, Reply

API_KEY = "courier-test-key"
CALLBACK_SECRET = "courier-test-callback-secret"  # noqa: S105 - a test value
CST = dt.timezone(dt.timedelta(hours=8))
# The core's statuses in the courier's words (``advance`` takes either).
COURIER_WORDS = {
    "created": "ACCEPTED",
    "picked_up": "COLLECTED",
    "in_transit": "IN_TRANSIT",
    "out_for_delivery": "OUT_FOR_DELIVERY",
    "delivered": "SIGNED",
    "failed": "DELIVERY_FAILED",
    "returned": "RETURNED",
    "cancelled": "CANCELLED",
}
FINISHED = {"SIGNED", "RETURNED", "DELIVERY_FAILED"}

_ADDRESS = {"name", "mobile", "province", "city", "district", "address", "postcode"}
_CARGO = {"weight_g", "cold_chain", "description", "declared_value_fen"}
_QUOTE = {"out_order_no", "sender", "receiver", "cargo"}
_WAYBILL = _QUOTE | {"handover_code", "notify_url"}


@dataclass(frozen=True)
class SignedCallback:
    """A status call-back as the courier POSTs it: its headers, its raw body, and when."""

    headers: dict[str, str]
    body: bytes
    sent_at: dt.datetime
    notify_url: str | None = None


@dataclass
class Waybill:
    waybill_no: str
    out_order_no: str
    request: dict[str, Any]
    status: str = "ACCEPTED"
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def notify_url(self) -> str | None:
        return self.request.get("notify_url")


class Invalid(Exception):
    def __init__(self, status: int, code: int, error: str, msg: str, where: str | None = None):
        super().__init__(msg)
        self.reply = Reply(
            status=status,
            body={"code": code, "error": error, "msg": msg, "field": where, "request_id": "t"},
        )


def _fields(value: Any, allowed: set[str], where: str, required: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(400, 40001, "INVALID_PARAM", "must be an object", where or "$")
    for name in value:
        if name not in allowed:
            raise Invalid(400, 40001, "INVALID_PARAM", "unknown field", f"{where}{name}")
    for name in required:
        if value.get(name) in (None, ""):
            raise Invalid(400, 40001, "INVALID_PARAM", "required", f"{where}{name}")
    return value


def _order(body: Any, allowed: set[str]) -> dict[str, Any]:
    order = _fields(body, allowed, "", {"out_order_no", "sender", "receiver", "cargo"})
    for part in ("sender", "receiver"):
        _fields(
            order[part], _ADDRESS, f"{part}.", {"name", "mobile", "province", "city", "address"}
        )
    cargo = _fields(order["cargo"], _CARGO, "cargo.", {"weight_g"})
    if not isinstance(cargo["weight_g"], int) or cargo["weight_g"] <= 0:
        raise Invalid(400, 40001, "INVALID_PARAM", "grams, a positive integer", "cargo.weight_g")
    if not isinstance(cargo.get("cold_chain", False), bool):
        raise Invalid(400, 40001, "INVALID_PARAM", "true or false", "cargo.cold_chain")
    return order


class CourierServer:
    """Waybills in memory, served over HTTP by an ``HttpRecorder`` (its ``requests`` are
    every request the plugin sent)."""

    def __init__(
        self,
        recorder: HttpRecorder,
        *,
        api_key: str = API_KEY,
        callback_secret: str = CALLBACK_SECRET,
        price_fen: int = 1200,
    ) -> None:
        self.recorder = recorder
        self.api_key = api_key
        self.callback_secret = callback_secret
        self.price_fen = price_fen
        self.waybills: dict[str, Waybill] = {}
        self._by_key: dict[str, str] = {}
        self._lock = threading.RLock()
        self._numbers = itertools.count(1)
        self.behave()

    # -- for tests -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.recorder.url

    @property
    def requests(self) -> list[Recorded]:
        return self.recorder.requests

    def environment(self, **more: str) -> dict[str, str]:
        """The plugin's MEDMARKET_COURIER_HTTP_* variables for this server."""
        return {
            "MEDMARKET_COURIER_HTTP_URL": self.url,
            "MEDMARKET_COURIER_HTTP_API_KEY": self.api_key,
            "MEDMARKET_COURIER_HTTP_CALLBACK_SECRET": self.callback_secret,
            **{f"MEDMARKET_COURIER_HTTP_{name.upper()}": value for name, value in more.items()},
        }

    def behave(self) -> None:
        """Answer promptly and take everything again."""
        self.delay = 0.0
        self.failing: int | None = None
        self.carries_cold_chain = True
        self.refused_cities: set[str] = set()

    def slow(self, seconds: float) -> None:
        self.delay = seconds

    def fail_with(self, status: int = 503) -> None:
        self.failing = status

    def refuse_cold_chain(self) -> None:
        self.carries_cold_chain = False

    def refuse_city(self, city: str) -> None:
        self.refused_cities.add(city)

    def waybill_for(self, reference: str) -> Waybill:
        """The waybill made for the core's ``reference`` (KeyError if none)."""
        with self._lock:
            return self.waybills[self._by_key[reference]]

    def advance(
        self,
        waybill_no: str,
        status: str,
        *,
        at: dt.datetime | None = None,
        failure: str = "RECIPIENT_ABSENT",
        signer: str | None = None,
        photo: bool = True,
    ) -> dict[str, Any]:
        """Move a waybill on: ``status`` in the core's words (``picked_up``, ``in_transit``,
        ``delivered``, ``failed``, ``returned``; ``out_for_delivery``) or the courier's own
        (any upper-case word, known to the plugin or not). ``delivered`` carries proof (the
        receiver's name or ``signer``, the handover code, a photo unless ``photo=False``),
        ``failed`` a ``failure`` code. Returns the event as the courier records it."""
        word = COURIER_WORDS.get(status, status)
        with self._lock:
            waybill = self.waybills[waybill_no]
            when = at or dt.datetime.now(CST)
            if waybill.events:
                last = dt.datetime.fromisoformat(waybill.events[-1]["occurred_at"])
                when = max(when, last + dt.timedelta(seconds=1))
            when = when.astimezone(CST).replace(microsecond=0)
            event: dict[str, Any] = {
                "event_id": f"EV{waybill_no}-{len(waybill.events) + 1:03d}",
                "status": word,
                "occurred_at": when.isoformat(),
                "description": word.replace("_", " ").lower(),
                "operator": "小李 13900000000",  # a field the plugin does not know
            }
            if word == "SIGNED":
                event["proof"] = {
                    "signer": signer or waybill.request["receiver"]["name"],
                    "signed_at": when.isoformat(),
                    "handover_code": waybill.request.get("handover_code"),
                    "photo_url": f"{self.url}/photos/{waybill_no}.jpg" if photo else None,
                    "sign_type": "code" if waybill.request.get("handover_code") else "photo",
                }
            if word == "DELIVERY_FAILED":
                event["failure_code"] = failure
            waybill.events.append(event)
            waybill.status = word
            return event

    def lose(self, waybill_no: str) -> list[dict[str, Any]]:
        """The courier loses the parcel: in transit, then failed for good (``LOST``)."""
        return [
            self.advance(waybill_no, "in_transit"),
            self.advance(waybill_no, "failed", failure="LOST"),
        ]

    def callback(
        self,
        waybill_no: str,
        *,
        events: list[dict[str, Any]] | None = None,
        at: dt.datetime | None = None,
        secret: str | None = None,
    ) -> SignedCallback:
        """The call-back the courier sends for a waybill's ``events`` (by default its last
        one), timestamped ``at`` (now) and signed with ``secret`` (the shared one)."""
        with self._lock:
            waybill = self.waybills[waybill_no]
            chosen = events if events is not None else waybill.events[-1:]
            notify_id = f"N{waybill_no}-{len(waybill.events):03d}"
            body = json.dumps(
                {
                    "notify_id": notify_id,
                    "waybill_no": waybill_no,
                    "out_order_no": waybill.out_order_no,
                    "events": chosen,
                    "push_count": 1,  # a field the plugin does not know
                },
                ensure_ascii=False,
            ).encode()
            notify_url = waybill.notify_url
        sent_at = (at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        timestamp = str(int(sent_at.timestamp()))
        digest = hmac.new(
            (secret or self.callback_secret).encode(),
            timestamp.encode() + b"." + body,
            hashlib.sha256,
        ).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Courier-Timestamp": timestamp,
            "X-Courier-Signature": digest,
            "X-Courier-Notify-Id": notify_id,
        }
        return SignedCallback(headers, body, sent_at, notify_url)

    def forged(self, waybill_no: str) -> SignedCallback:
        """Signed with a secret that is not the shared one."""
        return self.callback(waybill_no, secret="not-" + self.callback_secret)

    def stale(self, waybill_no: str, age: dt.timedelta = dt.timedelta(hours=1)) -> SignedCallback:
        """Genuinely signed, but ``age`` old (negative: from the future)."""
        return self.callback(waybill_no, at=dt.datetime.now(dt.UTC) - age)

    @staticmethod
    def tampered(signed: SignedCallback) -> SignedCallback:
        """The same signature over a body changed after signing."""
        body = signed.body.replace(b'"events": [', b'"events": [], "was": [', 1)
        if body == signed.body:
            body = signed.body + b" "
        return SignedCallback(signed.headers, body, signed.sent_at, signed.notify_url)

    async def post_callback(
        self, signed: SignedCallback, notify_url: str | None = None
    ) -> httpx.Response:
        """POST a call-back to ``notify_url`` (by default the one the waybill was made
        with), as the courier does; the answer is the receiver's."""
        url = notify_url or signed.notify_url
        assert url, "the waybill has no notify_url: give one"
        async with httpx.AsyncClient(timeout=10) as http:
            return await http.post(url, content=signed.body, headers=signed.headers)

    # -- the API -------------------------------------------------------------------------------
    def answer(self, request: Recorded) -> Reply:
        reply = self._answer(request)
        reply.delay = self.delay
        return reply

    def _answer(self, request: Recorded) -> Reply:
        if self.failing is not None:
            return Reply(status=self.failing, body="<html>502 Bad Gateway</html>")
        if request.headers.get("x-api-key") != self.api_key:
            return Invalid(401, 40101, "UNAUTHORIZED", "API key missing or wrong").reply
        path = urlsplit(request.path).path
        try:
            with self._lock:
                return self._route(request, [unquote(part) for part in path.split("/")[1:]])
        except Invalid as invalid:
            return invalid.reply

    def _route(self, request: Recorded, parts: list[str]) -> Reply:
        match request.method, parts:
            case "GET", ["v1", "ping"]:
                return self._ok({"server_time": dt.datetime.now(CST).isoformat()})
            case "POST", ["v1", "quotes"]:
                order = _order(self._json(request), _QUOTE)
                self._serviceable(order)
                return self._ok(
                    {
                        "quote_id": f"Q{next(self._numbers):08d}",
                        "price_fen": self.price_fen
                        + (800 if order["cargo"].get("cold_chain") else 0),
                        "currency": "CNY",
                        "estimated_delivery_at": (dt.datetime.now(CST) + dt.timedelta(hours=3))
                        .replace(microsecond=0)
                        .isoformat(),
                        "product_type": "SAME_DAY",
                    }
                )
            case "POST", ["v1", "waybills"]:
                return self._create(request)
            case "GET", ["v1", "waybills", number, "events"]:
                waybill = self._waybill(number)
                return self._ok(
                    {"waybill_no": number, "status": waybill.status, "events": waybill.events}
                )
            case "POST", ["v1", "waybills", number, "cancel"]:
                waybill = self._waybill(number)
                if waybill.status == "CANCELLED":
                    raise Invalid(409, 40902, "ALREADY_CANCELLED", "运单已取消")
                if waybill.status in FINISHED:
                    raise Invalid(409, 40903, "NOT_CANCELLABLE", f"运单已{waybill.status}")
                self.advance(number, "cancelled")
                return self._ok({"waybill_no": number, "status": "CANCELLED"})
        raise Invalid(404, 40400, "NOT_FOUND", f"{request.method} {request.path}")

    def _create(self, request: Recorded) -> Reply:
        key = request.headers.get("idempotency-key")
        if not key:
            raise Invalid(400, 40002, "IDEMPOTENCY_KEY_REQUIRED", "Idempotency-Key header")
        order = _order(self._json(request), _WAYBILL)
        if key in self._by_key:
            waybill = self.waybills[self._by_key[key]]
            if waybill.request != order:
                raise Invalid(409, 40901, "IDEMPOTENCY_CONFLICT", "key used for another order")
            return self._ok(self._made(waybill), replayed=True)
        self._serviceable(order)
        number = f"CH{next(self._numbers):010d}"
        waybill = Waybill(waybill_no=number, out_order_no=order["out_order_no"], request=order)
        self.waybills[number] = waybill
        self._by_key[key] = number
        self.advance(number, "created")
        return self._ok(self._made(waybill), status=201)

    def _made(self, waybill: Waybill) -> dict[str, Any]:
        return {
            "waybill_no": waybill.waybill_no,
            "label_url": f"{self.url}/labels/{waybill.waybill_no}.pdf",
            "status": "ACCEPTED",
            "sorting_code": "571-A3",
        }

    def _serviceable(self, order: dict[str, Any]) -> None:
        if order["cargo"].get("cold_chain") and not self.carries_cold_chain:
            raise Invalid(
                422, 42202, "COLD_CHAIN_UNAVAILABLE", "该线路不支持冷链", "cargo.cold_chain"
            )
        if order["receiver"]["city"] in self.refused_cities:
            raise Invalid(
                422, 42201, "OUT_OF_SERVICE_AREA", "收件地址不在服务范围", "receiver.city"
            )

    def _waybill(self, number: str) -> Waybill:
        if number not in self.waybills:
            raise Invalid(404, 40401, "WAYBILL_NOT_FOUND", f"运单 {number} 不存在")
        return self.waybills[number]

    @staticmethod
    def _json(request: Recorded) -> Any:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise Invalid(415, 41500, "UNSUPPORTED_MEDIA_TYPE", "send application/json")
        try:
            return request.json()
        except ValueError:
            raise Invalid(400, 40000, "MALFORMED_JSON", "not JSON") from None

    @staticmethod
    def _ok(data: Any, *, status: int = 200, replayed: bool = False) -> Reply:
        headers = {"idempotent-replayed": "true"} if replayed else {}
        return Reply(
            status=status,
            body={"code": 0, "msg": "ok", "data": data, "request_id": "t", "ts": 0},
            headers=headers,
        )


@contextmanager
def courier_server(**options: Any) -> Iterator[CourierServer]:
    """A ``CourierServer`` listening on 127.0.0.1 for the ``with`` block (``options`` go to
    ``CourierServer``)."""
    recorder = HttpRecorder()
    server = CourierServer(recorder, **options)
    recorder.responder = server.answer
    with recorder.serving():
        yield server
