"""Stripe's webhook signature: ``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]``,
where each ``v1`` is HMAC-SHA256 over ``"<t>." + body`` with an endpoint secret.

Accepted only when some ``v1`` matches some configured secret (compared in constant time;
several secrets so one can be rotated, several ``v1`` because Stripe signs with every live
secret during a rotation) and ``t`` lies within ``tolerance`` seconds of now, in either
direction: an old signature is a replay, a future one a forgery or a broken clock.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from medmarket.payments.interface import WebhookRejected

TOLERANCE_SECONDS = 300
# Unix seconds have 10 digits until the year 2286; a longer ``t`` is no timestamp (and a
# few hundred digits would overflow the float it is compared with).
_MAX_TIMESTAMP_DIGITS = 12


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header value (for tests and local tools)."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    candidates: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise WebhookRejected("Stripe-Signature is malformed")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            candidates.append(value)
        # v0 and other schemes are ignored: only v1 is a real signature.
    if (
        len(timestamps) != 1
        or not timestamps[0].isascii()
        or not timestamps[0].isdigit()
        or len(timestamps[0]) > _MAX_TIMESTAMP_DIGITS
    ):
        raise WebhookRejected("Stripe-Signature needs exactly one numeric t (Unix seconds)")
    if not candidates:
        raise WebhookRejected("Stripe-Signature has no v1 signature")
    return int(timestamps[0]), candidates


def verify(
    header: str | None,
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Return the signed timestamp, or raise ``WebhookRejected``."""
    if not secrets:
        raise WebhookRejected("no webhook secret is configured")
    if not header:
        raise WebhookRejected("Stripe-Signature header is missing")
    timestamp, candidates = _parse(header)
    if abs(int(now) - timestamp) > tolerance:
        raise WebhookRejected("Stripe-Signature timestamp is outside the tolerance")
    matched = False
    for secret in secrets:
        expected = signature(secret, timestamp, body).encode()
        for candidate in candidates:
            # Check every pair, so timing does not tell which secret or position matched.
            matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    if not matched:
        raise WebhookRejected("Stripe-Signature does not match")
    return timestamp
