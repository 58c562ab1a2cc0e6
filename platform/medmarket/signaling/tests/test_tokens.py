"""Room tokens: what they grant, and every way a token is refused."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import TypedDict, Unpack

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket.settings import Settings, load_settings
from medmarket.signaling.tokens import (
    ParticipantRole,
    RoomTokenError,
    mint_room_token,
    slot_window,
    verify_room_token,
)

SETTINGS = load_settings(
    {}, database_url="postgresql://x/y", redis_url="redis://x", secret_key="s" * 40
)
OTHER_KEY = msgspec.structs.replace(SETTINGS, secret_key="t" * 40)
NOW = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
CONSULTATION = uuid.UUID("0b9f4c8e-5a55-4f5e-9c68-2f6a3b1d7e21")


class TokenFields(TypedDict, total=False):
    """What ``token`` may change of a room token's fields."""

    consultation_id: uuid.UUID
    participant_id: str
    role: ParticipantRole
    not_before: dt.datetime
    expires_at: dt.datetime
    slot_starts_at: dt.datetime | None
    slot_ends_at: dt.datetime | None
    video_provider: str
    high_throughput: bool


def token(settings: Settings = SETTINGS, /, **changes: Unpack[TokenFields]) -> str:
    values: TokenFields = {
        "consultation_id": CONSULTATION,
        "participant_id": "patient-1",
        "role": "patient",
        "not_before": NOW - dt.timedelta(minutes=15),
        "expires_at": NOW + dt.timedelta(minutes=45),
    }
    values.update(changes)
    return mint_room_token(settings, **values)


def refusal(text: str, at: dt.datetime = NOW, consultation: uuid.UUID = CONSULTATION) -> str:
    with pytest.raises(RoomTokenError) as caught:
        verify_room_token(SETTINGS, text, consultation, now=at)
    return caught.value.code


def test_a_token_grants_what_it_was_minted_for() -> None:
    starts = NOW
    ends = NOW + dt.timedelta(minutes=20)
    not_before, expires_at = slot_window(starts, ends)
    grant = verify_room_token(
        SETTINGS,
        token(
            participant_id="doctor-7",
            role="doctor",
            not_before=not_before,
            expires_at=expires_at,
            slot_starts_at=starts,
            slot_ends_at=ends,
            video_provider="carrier-5g",
            high_throughput=True,
        ),
        CONSULTATION,
        now=NOW,
    )
    assert (grant.consultation_id, grant.participant_id, grant.role) == (
        CONSULTATION,
        "doctor-7",
        "doctor",
    )
    assert (grant.not_before, grant.expires_at) == (
        NOW - dt.timedelta(minutes=15),
        ends + dt.timedelta(minutes=30),
    )
    assert (grant.slot_starts_at, grant.slot_ends_at) == (starts, ends)
    assert grant.video_provider == "carrier-5g" and grant.high_throughput


def test_tokens_are_compact_enough_for_a_url() -> None:
    assert len(token()) < 200
    assert all(c.isalnum() or c in "-_." for c in token())


def test_expired_and_early_tokens_are_refused_beyond_the_leeway() -> None:
    assert refusal(token(), at=NOW + dt.timedelta(minutes=46)) == "expired"
    assert refusal(token(), at=NOW - dt.timedelta(minutes=16)) == "not-yet-valid"
    # Within 30 s of the edges (clock skew between instances) it still works.
    verify_room_token(
        SETTINGS, token(), CONSULTATION, now=NOW + dt.timedelta(minutes=45, seconds=20)
    )


def test_a_token_for_another_consultation_is_refused() -> None:
    assert refusal(token(), consultation=uuid.uuid4()) == "wrong-consultation"


def test_a_token_signed_with_another_key_is_refused() -> None:
    assert refusal(token(OTHER_KEY)) == "forged"


@given(position=st.integers(min_value=0, max_value=10_000), flip=st.integers(1, 255))
def test_changing_any_byte_of_the_payload_is_refused(position: int, flip: int) -> None:
    body_text, tag = token().split(".")
    body = bytearray(base64.urlsafe_b64decode(body_text + "=" * (-len(body_text) % 4)))
    body[position % len(body)] ^= flip
    tampered = base64.urlsafe_b64encode(bytes(body)).rstrip(b"=").decode() + "." + tag
    assert refusal(tampered) == "forged"


def test_a_payload_from_another_token_cannot_borrow_a_signature() -> None:
    mine, theirs = token(participant_id="me"), token(participant_id="doctor", role="doctor")
    assert refusal(theirs.split(".")[0] + "." + mine.split(".")[1]) == "forged"


@given(st.text(max_size=300))
def test_garbage_is_refused_never_raised_otherwise(garbage: str) -> None:
    assert refusal(garbage) in {"malformed", "forged"}


@pytest.mark.parametrize(
    "changes",
    [
        {"participant_id": "has spaces"},
        {"participant_id": ""},
        {"participant_id": "x" * 65},
        {"video_provider": "Bad Provider"},
        {"expires_at": NOW - dt.timedelta(minutes=15)},
        {"not_before": dt.datetime(2026, 5, 1, 9, 0)},  # noqa: DTZ001 - naive on purpose
    ],
)
def test_minting_refuses_what_could_not_be_honoured(changes: TokenFields) -> None:
    with pytest.raises(ValueError, match=r"."):
        token(**changes)
