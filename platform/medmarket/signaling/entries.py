"""A room's stream entries as the hub routes them: each parsed once (a relayed message, a
presence event, a control event), its frame encoded once and shared by every local recipient.
An entry the hub cannot make sense of becomes one that nobody receives, never an error."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import msgspec

from medmarket.signaling import messages as m
from medmarket.signaling.rooms import StreamId, parse_members, parse_stream_id

log = logging.getLogger("medmarket.signaling")


@dataclass(frozen=True, eq=False)
class Entry:
    """A stream entry as the hub routes it: parsed once, its frame encoded once and shared by
    every local recipient."""

    sid: StreamId
    frame: bytes | None
    sender: str | None = None
    to: str | None = None
    joined: str | None = None  # presence "joined" of this participant ...
    connection_id: str | None = None  # ... on this connection
    removes: str | None = None  # control: this participant was removed
    ends_room: bool = False  # a final status: the consultation is over

    @classmethod
    def parse(cls, raw_id: bytes, fields: dict[bytes, bytes]) -> Entry:
        entry_id = raw_id.decode()
        sid = parse_stream_id(entry_id)
        if sid is None:
            raise ValueError(f"not a stream id: {entry_id!r}")
        try:
            return cls._parse_fields(sid, entry_id, fields)
        except (KeyError, UnicodeDecodeError, msgspec.DecodeError, msgspec.ValidationError):
            # Not written by our scripts (or by an older version of them): skipped, else the
            # reader would fail on it again and again, for every room.
            log.error("unreadable signaling entry %s skipped", entry_id)
            return cls(sid, None)

    @classmethod
    def _parse_fields(cls, sid: StreamId, entry_id: str, fields: dict[bytes, bytes]) -> Entry:
        if b"m" in fields:
            relayed = m.relayed_decoder.decode(fields[b"m"])
            frame = m.encoder.encode(msgspec.structs.replace(relayed, id=entry_id))
            final = isinstance(relayed, m.StatusChange) and relayed.status in m.FINAL_STATUSES
            return cls(sid, frame, sender=relayed.sender or "", to=relayed.to, ends_room=final)
        if b"ev" in fields:
            participant_id = fields[b"p"].decode()
            presence = m.Presence(
                id=entry_id,
                event="left" if fields[b"ev"] == b"left" else "joined",
                participant=msgspec.convert(
                    {"id": participant_id, "role": fields[b"r"].decode()}, m.Participant
                ),
                participants=parse_members(fields[b"ms"]),
            )
            joined = participant_id if presence.event == "joined" else None
            return cls(
                sid,
                m.encoder.encode(presence),
                joined=joined,
                connection_id=fields.get(b"conn", b"").decode(),
            )
        if fields.get(b"ctl") == b"remove":
            return cls(sid, None, removes=fields[b"p"].decode())
        return cls(sid, None)
