"""Room tokens: short-lived, signed capabilities to join one consultation's room as one person.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(key, payload))`` where the payload is
a compact msgpack map and the key is derived from ``settings.secret_key`` for this purpose only,
so a token can never be confused with another signed value of the platform. Tokens carry
everything the signaling and video endpoints need (consultation, participant, role, validity,
the booked slot, the video provider), so joining a room needs no database round trip.

The server mints them (the consults domain decides who may join and when); clients never see
the key and cannot change a byte without the signature failing.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
import uuid
from typing import Literal

import msgspec

from medmarket.settings import Settings

ParticipantRole = Literal["patient", "doctor", "guest"]
TOKEN_VERSION = 1
# Participant ids go into presence messages and Redis; keep them plain.
PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_TOKEN_LENGTH = 1024
EARLY_ENTRY = dt.timedelta(minutes=15)
LATE_GRACE = dt.timedelta(minutes=30)
_KEY_PURPOSE = b"medmarket.signaling.room-token.v1"
_TAG_LENGTH = 32


class RoomTokenError(Exception):
    """A token that must be refused; ``code`` says why (stable, for clients and logs)."""

    def __init__(
        self,
        code: Literal["malformed", "forged", "expired", "not-yet-valid", "wrong-consultation"],
        message: str,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Payload(msgspec.Struct, frozen=True, omit_defaults=True):
    # Short field names: the token travels with every connection and video setup.
    v: int
    c: bytes  # consultation id, 16 bytes
    p: str  # participant id
    r: ParticipantRole
    nbf: int  # unix seconds
    exp: int
    ss: int  # booked slot start
    se: int  # booked slot end
    vp: str = "webrtc"  # video provider id
    ht: bool = False  # the consultation wants the high-throughput media profile


class RoomGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What a verified token grants."""

    consultation_id: uuid.UUID
    participant_id: str
    role: ParticipantRole
    not_before: dt.datetime
    expires_at: dt.datetime
    slot_starts_at: dt.datetime
    slot_ends_at: dt.datetime
    video_provider: str = "webrtc"
    high_throughput: bool = False


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Payload)


def _signing_key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key.encode(), _KEY_PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _seconds(moment: dt.datetime, name: str) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return int(moment.timestamp())


def _moment(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def slot_window(
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    early: dt.timedelta = EARLY_ENTRY,
    late: dt.timedelta = LATE_GRACE,
) -> tuple[dt.datetime, dt.datetime]:
    """The (not_before, expires_at) window in which a booked slot's room may be joined: the
    patient may enter the waiting room ``early``, and a call that runs over may reconnect
    until ``late`` after the slot."""
    return starts_at - early, ends_at + late


def mint_room_token(
    settings: Settings,
    consultation_id: uuid.UUID,
    participant_id: str,
    role: ParticipantRole,
    not_before: dt.datetime,
    expires_at: dt.datetime,
    *,
    slot_starts_at: dt.datetime | None = None,
    slot_ends_at: dt.datetime | None = None,
    video_provider: str = "webrtc",
    high_throughput: bool = False,
) -> str:
    """A token letting ``participant_id`` join ``consultation_id``'s room as ``role`` between
    ``not_before`` and ``expires_at`` (see :func:`slot_window`). The slot defaults to the
    window; ``video_provider`` names the provider that serves this consultation.

    Raises ValueError for an id or window the signaling could not honour.
    """
    if not PARTICIPANT_ID.match(participant_id):
        raise ValueError("participant_id must be 1-64 letters, digits, '-' or '_'")
    if not PROVIDER_ID.match(video_provider):
        raise ValueError(f"bad video provider id {video_provider!r}")
    nbf, exp = _seconds(not_before, "not_before"), _seconds(expires_at, "expires_at")
    if exp <= nbf:
        raise ValueError("expires_at must be after not_before")
    payload = _Payload(
        v=TOKEN_VERSION,
        c=consultation_id.bytes,
        p=participant_id,
        r=role,
        nbf=nbf,
        exp=exp,
        ss=_seconds(slot_starts_at, "slot_starts_at") if slot_starts_at else nbf,
        se=_seconds(slot_ends_at, "slot_ends_at") if slot_ends_at else exp,
        vp=video_provider,
        ht=high_throughput,
    )
    body = _encoder.encode(payload)
    tag = hmac.new(_signing_key(settings), body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(tag)}"


def verify_room_token(
    settings: Settings,
    token: str,
    consultation_id: uuid.UUID,
    *,
    now: dt.datetime | None = None,
    leeway: dt.timedelta = dt.timedelta(seconds=30),
) -> RoomGrant:
    """The grant inside ``token`` if it is genuine, meant for ``consultation_id`` and valid at
    ``now`` (with ``leeway`` for clock skew between instances). Raises RoomTokenError."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise RoomTokenError("malformed", "the room token is malformed")
    body_text, tag_text = token.split(".")
    try:
        body, tag = _unb64(body_text), _unb64(tag_text)
    except (binascii.Error, ValueError):
        raise RoomTokenError("malformed", "the room token is malformed") from None
    expected = hmac.new(_signing_key(settings), body, hashlib.sha256).digest()
    if len(tag) != _TAG_LENGTH or not hmac.compare_digest(tag, expected):
        raise RoomTokenError("forged", "the room token's signature is not ours")
    try:
        payload = _decoder.decode(body)
    except msgspec.DecodeError:  # signed by us but unreadable: an old or future format
        raise RoomTokenError("malformed", "the room token's format is not supported") from None
    if payload.v != TOKEN_VERSION or len(payload.c) != 16:
        raise RoomTokenError("malformed", "the room token's format is not supported")
    if payload.c != consultation_id.bytes:
        raise RoomTokenError("wrong-consultation", "the room token is for another consultation")
    moment = (now or dt.datetime.now(dt.UTC)).timestamp()
    slack = leeway.total_seconds()
    if moment < payload.nbf - slack:
        raise RoomTokenError("not-yet-valid", "the room opens later; try again closer to the time")
    if moment >= payload.exp + slack:
        raise RoomTokenError("expired", "the room token has expired; ask for a new one")
    return RoomGrant(
        consultation_id=uuid.UUID(bytes=payload.c),
        participant_id=payload.p,
        role=payload.r,
        not_before=_moment(payload.nbf),
        expires_at=_moment(payload.exp),
        slot_starts_at=_moment(payload.ss),
        slot_ends_at=_moment(payload.se),
        video_provider=payload.vp,
        high_throughput=payload.ht,
    )
