"""Stripe-Signature verification: exactly what is signed, by whom, and when."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.payments.interface import WebhookRejected
from medmarket.payments.stripe_signature import TOLERANCE_SECONDS, sign, verify

SECRET = "whsec_current"
OLD = "whsec_previous"
BODY = b'{"id": "evt_1", "type": "payment_intent.succeeded"}'
NOW = 1_800_000_000


def stripe_reference_signature(secret: str, timestamp: int, body: bytes) -> str:
    # Written out from Stripe's documentation, independently of the code under test.
    payload = f"{timestamp}.{body.decode()}".encode()
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def test_a_correct_signature_is_accepted_and_returns_its_time() -> None:
    header = f"t={NOW},v1={stripe_reference_signature(SECRET, NOW, BODY)}"
    assert verify(header, BODY, [SECRET], now=NOW) == NOW


def test_sign_matches_stripes_scheme() -> None:
    assert sign(BODY, SECRET, NOW) == f"t={NOW},v1={stripe_reference_signature(SECRET, NOW, BODY)}"


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "missing"),
        ("", "missing"),
        ("garbage", "malformed"),
        (f"v1={stripe_reference_signature(SECRET, NOW, BODY)}", "numeric t"),
        (f"t=abc,v1={stripe_reference_signature(SECRET, NOW, BODY)}", "numeric t"),
        (f"t={NOW},t={NOW},v1={stripe_reference_signature(SECRET, NOW, BODY)}", "numeric t"),
        (f"t={NOW}", "no v1"),
        (f"t={NOW},v0={stripe_reference_signature(SECRET, NOW, BODY)}", "no v1"),
        (f"t={NOW},v1={'0' * 64}", "does not match"),
        (f"t={NOW},v1={stripe_reference_signature('whsec_other', NOW, BODY)}", "does not match"),
        (f"t={NOW},v1=签名", "does not match"),
        # Signed over another timestamp than the one it claims.
        (f"t={NOW},v1={stripe_reference_signature(SECRET, NOW - 1, BODY)}", "does not match"),
    ],
)
def test_anything_else_is_rejected(header: str | None, why: str) -> None:
    with pytest.raises(WebhookRejected, match=why):
        verify(header, BODY, [SECRET], now=NOW)


def test_a_changed_body_is_rejected() -> None:
    header = sign(BODY, SECRET, NOW)
    with pytest.raises(WebhookRejected, match="does not match"):
        verify(header, BODY.replace(b"succeeded", b"failed"), [SECRET], now=NOW)


@pytest.mark.parametrize("skew", [-TOLERANCE_SECONDS, 0, TOLERANCE_SECONDS])
def test_timestamps_within_tolerance_are_accepted(skew: int) -> None:
    verify(sign(BODY, SECRET, NOW + skew), BODY, [SECRET], now=NOW)


@pytest.mark.parametrize("skew", [-TOLERANCE_SECONDS - 1, TOLERANCE_SECONDS + 1, -86400, 86400])
def test_stale_and_future_timestamps_are_rejected(skew: int) -> None:
    with pytest.raises(WebhookRejected, match="tolerance"):
        verify(sign(BODY, SECRET, NOW + skew), BODY, [SECRET], now=NOW)


def test_rotation_several_secrets_and_several_signatures() -> None:
    old_only = sign(BODY, OLD, NOW)
    assert verify(old_only, BODY, [SECRET, OLD], now=NOW) == NOW
    both = f"t={NOW},v1={'f' * 64},v1={stripe_reference_signature(SECRET, NOW, BODY)}"
    assert verify(both, BODY, [OLD, SECRET], now=NOW) == NOW
    with pytest.raises(WebhookRejected):
        verify(old_only, BODY, [SECRET], now=NOW)  # the old secret was retired


def test_no_configured_secret_rejects_everything() -> None:
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        verify(sign(BODY, SECRET, NOW), BODY, [], now=NOW)


@given(
    body=st.binary(max_size=300),
    secret=st.text(min_size=1, max_size=40),
    skew=st.integers(-300, 300),
)
def test_any_body_signed_with_a_known_secret_verifies(body: bytes, secret: str, skew: int) -> None:
    assert verify(sign(body, secret, NOW + skew), body, ["whsec_x", secret], now=NOW) == NOW + skew


@given(body=st.binary(max_size=100), flip=st.integers(min_value=0, max_value=99))
def test_any_single_byte_change_is_caught(body: bytes, flip: int) -> None:
    header = sign(body, SECRET, NOW)
    tampered = bytearray(body or b"\x00")
    tampered[flip % len(tampered)] ^= 0x01
    if bytes(tampered) == body:
        return
    with pytest.raises(WebhookRejected):
        verify(header, bytes(tampered), [SECRET], now=NOW)


@pytest.mark.parametrize("digits", [13, 400])
def test_a_timestamp_too_long_to_be_one_is_refused_not_overflowed(digits: int) -> None:
    timestamp = "9" * digits
    with pytest.raises(WebhookRejected, match="Unix seconds"):
        verify(f"t={timestamp},v1=aa", BODY, [SECRET], now=NOW)
