"""Signaling messages: msgspec tagged unions on the ``type`` field, JSON on the wire.

A connection's first message is the client's ``hello``: the room token, and ``last_id`` when
resuming (the token never travels in the URL, where access logs would keep it). The server
answers ``welcome``, or an ``error`` and closes. After that, clients send offer, answer,
candidate and bye (each optionally addressed ``to`` one participant, else to everyone else in
the room, and optionally carrying a ``ref`` the server acknowledges, so a client can resend
what was not acknowledged after a reconnect without it being delivered twice). The server
relays those with ``id`` (the Redis Stream entry id, which a reconnecting client hands back
as ``last_id``), ``from`` and ``from_role`` filled in; what a client puts in those fields is
overwritten. The server also sends welcome, presence, ack and error, and relays what the
consultation itself publishes into the room: ``chat`` (a message a participant posted over
HTTP, relayed once it is stored; clients cannot send chat on the socket) and ``status`` (the
consultation moved on: waiting, in progress, ended). A malformed or oversized message is
answered with an error; the connection stays open. A message beyond ``MAX_FRAME_BYTES`` is
not read at all: the server closes the connection (1009).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Literal

import msgspec

from medmarket.signaling.tokens import ParticipantRole

# Offered by clients and confirmed by the server: the protocol these messages make.
SUBPROTOCOL = "medmarket-signal"


class CloseCode(enum.IntEnum):
    """How the server closes a signaling socket, and what a client does about it. The one
    list: the call page is given it (``data-close-codes``), the Python client reads it here."""

    DONE = 1000  # the client left, or the server let it go
    TRY_LATER = 1013  # signaling is unavailable (Redis, the database): reconnect with backoff
    MALFORMED = 4400  # not a hello first, none in time, or a bad last_id: rejoin without it
    TOKEN = 4401  # refused token, or the consultation ended: ``enter`` for a new one (it says)
    REMOVED = 4403  # removed from the consultation, or never in it: do not come back
    REPLACED = 4409  # the same person connected again elsewhere: this one stays closed
    FULL = 4429  # the room holds its maximum: try again later


MAX_MESSAGE_BYTES = 64 * 1024
# The largest WebSocket message the server reads at all (uvicorn's ``ws_max_size``): anything
# bigger closes the connection (1009) before it is buffered whole. Between the two limits a
# message is answered with a ``too-large`` error and the connection stays.
MAX_FRAME_BYTES = 128 * 1024
_Sdp = Annotated[str, msgspec.Meta(min_length=1, max_length=60_000)]
_Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_ParticipantId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# An ICE candidate line ("candidate:..."), or "" for the end of candidates.
_CandidateLine = Annotated[str, msgspec.Meta(max_length=1024, pattern=r"^(candidate:.*)?$")]
_SdpMid = Annotated[str, msgspec.Meta(max_length=64)]


class Hello(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="type", tag="hello"
):
    """The first message on a connection, and only the first: who the client is (the room
    token ``enter`` gave) and, when reconnecting, the ``id`` of the last message it got."""

    token: str
    last_id: str | None = None


class _Relayable(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    to: _ParticipantId | None = None
    ref: _Ref | None = None
    # Set by the server when relaying.
    id: str | None = None
    sender: str | None = msgspec.field(default=None, name="from")
    sender_role: ParticipantRole | None = msgspec.field(default=None, name="from_role")


class Offer(_Relayable, tag_field="type", tag="offer"):
    sdp: _Sdp


class Answer(_Relayable, tag_field="type", tag="answer"):
    sdp: _Sdp


class Candidate(_Relayable, tag_field="type", tag="candidate"):
    candidate: _CandidateLine
    sdp_mid: _SdpMid | None = None
    sdp_mline_index: Annotated[int, msgspec.Meta(ge=0, le=64)] | None = None


class Bye(_Relayable, tag_field="type", tag="bye"):
    reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


ClientMessage = Offer | Answer | Candidate | Bye


class ChatAttachment(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    content_type: str
    size_bytes: int


class Chat(_Relayable, tag_field="type", tag="chat"):
    """A chat message, relayed after the consultation stored it (``seq`` numbers a
    consultation's messages from 1; a client that sees a gap fetches the history)."""

    message_id: str
    seq: int
    body: str
    sent_at: dt.datetime
    attachment: ChatAttachment | None = None


# A consultation in one of these statuses is over: its room closes.
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "no_show", "terminated", "cancelled"})


class StatusChange(_Relayable, tag_field="type", tag="status"):
    """The consultation moved on (``waiting``, ``in_progress``, ``completed``, ``no_show``,
    ``terminated``, ``cancelled``). After a final status (``FINAL_STATUSES``) the server closes
    every connection of the room (an ``ended`` error, close code 4401) and refuses its tokens."""

    status: str
    at: dt.datetime


# What the consultation publishes into a room from the server side.
ServerPublished = Chat | StatusChange


class Participant(msgspec.Struct, frozen=True):
    id: str
    role: ParticipantRole


class Welcome(msgspec.Struct, kw_only=True, tag_field="type", tag="welcome"):
    """First message on a connection: who you are, who else is here, and where you are in
    the room's stream (resume from ``last_id`` if this connection drops)."""

    consultation_id: str
    participant: Participant
    participants: list[Participant]
    last_id: str
    max_message_bytes: int = MAX_MESSAGE_BYTES


class Presence(msgspec.Struct, kw_only=True, tag_field="type", tag="presence"):
    id: str
    event: Literal["joined", "left"]
    participant: Participant
    participants: list[Participant]


class Ack(msgspec.Struct, kw_only=True, tag_field="type", tag="ack"):
    ref: str
    id: str


ErrorCode = Literal[
    "malformed",
    "too-large",
    "room-full",
    "resume-gap",
    "replaced",
    "removed",
    "ended",
    "token-malformed",
    "token-forged",
    "token-expired",
    "token-not-yet-valid",
    "token-wrong-consultation",
    "unavailable",
]


class Error(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type", tag="error"):
    code: ErrorCode
    message: str
    ref: str | None = None


ServerMessage = (
    Offer | Answer | Candidate | Bye | Chat | StatusChange | Welcome | Presence | Ack | Error
)

client_decoder = msgspec.json.Decoder(ClientMessage)
# The other kinds too, so that a client that starts with one hears that it must say hello.
first_decoder = msgspec.json.Decoder(Hello | ClientMessage)
relayed_decoder = msgspec.json.Decoder(Offer | Answer | Candidate | Bye | Chat | StatusChange)
server_decoder = msgspec.json.Decoder(ServerMessage)
encoder = msgspec.json.Encoder()


def explain(error: msgspec.DecodeError) -> str:
    """A short, client-facing reason (msgspec's own messages name the field)."""
    return str(error)[:300]
