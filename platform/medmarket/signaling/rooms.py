"""A consultation's room in Redis: its stream, who is present, and the atomic steps on them.

Keys share the hash tag ``{<consultation id>}``, so Redis Cluster keeps one room on one shard
and every script below touches a single slot:

- ``signal:{id}``          the stream: relayed messages, presence events, control events
- ``signal:{id}:members``  participant id -> "role|connection id|last seen (ms)"
- ``signal:{id}:refs``     "participant:ref" -> the stream id a client's message was given
- ``signal:{id}:removed``  participants the consultation removed; they may not rejoin

Presence changes and the message that announces them are written by one script, so every
instance sees joins and leaves in stream order with a consistent member list. Members an
instance stopped refreshing (it crashed) count as gone after ``STALE_AFTER_MS``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

import msgspec
from redis.asyncio import Redis

from medmarket.signaling.messages import Participant

STREAM_MAXLEN = 2000  # a consultation's signaling is tens to hundreds of messages
ROOM_TTL_SECONDS = 6 * 3600  # rooms vanish this long after their last activity
STALE_AFTER_MS = 35_000
REFRESH_EVERY_SECONDS = 10.0
# As Redis writes an id: two decimals without sign, padding or leading zeros, each of 64 bits.
_STREAM_ID = re.compile(r"(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})")
MAX_ID_PART = 2**64 - 1

StreamId = tuple[int, int]


def stream_key(consultation_id: uuid.UUID) -> str:
    return f"signal:{{{consultation_id}}}"


def room_keys(consultation_id: uuid.UUID) -> list[str]:
    base = stream_key(consultation_id)
    return [base, f"{base}:members", f"{base}:refs", f"{base}:removed"]


def parse_stream_id(text: str) -> StreamId | None:
    """``(ms, seq)`` of a stream id exactly as Redis writes one (``<ms>-<seq>``, each part
    at most 2**64 - 1), else None: nothing Redis would refuse, or read as another id, passes."""
    match = _STREAM_ID.fullmatch(text)
    if match is None:
        return None
    ms, seq = int(match[1]), int(match[2])
    if ms > MAX_ID_PART or seq > MAX_ID_PART:
        return None
    return ms, seq


def format_stream_id(sid: StreamId) -> str:
    return f"{sid[0]}-{sid[1]}"


def parse_members(snapshot: bytes | str) -> list[Participant]:
    text = snapshot.decode() if isinstance(snapshot, bytes) else snapshot
    members = []
    for item in text.split():
        pid, _, role = item.partition(":")
        members.append(msgspec.convert({"id": pid, "role": role}, Participant))
    return sorted(members, key=lambda member: member.id)


_JOIN = """
local members, stream, removed = KEYS[1], KEYS[2], KEYS[3]
local pid, role, conn = ARGV[1], ARGV[2], ARGV[3]
local stale, limit, maxlen, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]
if redis.call('SISMEMBER', removed, pid) == 1 then return {'removed'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', members)
local others = {}
for i = 1, #all, 2 do
  local other, value = all[i], all[i + 1]
  local orole, _, seen = string.match(value, '^([^|]*)|([^|]*)|(%d+)$')
  if seen == nil or now - tonumber(seen) > stale then
    redis.call('HDEL', members, other)
  elseif other ~= pid then
    table.insert(others, other .. ':' .. orole)
  end
end
if #others >= limit then return {'full'} end
redis.call('HSET', members, pid, role .. '|' .. conn .. '|' .. now)
table.insert(others, pid .. ':' .. role)
local snapshot = table.concat(others, ' ')
local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
  'ev', 'joined', 'p', pid, 'r', role, 'conn', conn, 'ms', snapshot)
redis.call('EXPIRE', members, ttl)
redis.call('EXPIRE', stream, ttl)
return {'ok', id, snapshot}
"""

_LEAVE = """
local members, stream = KEYS[1], KEYS[2]
local pid, conn, maxlen, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local value = redis.call('HGET', members, pid)
if not value then return false end
local role, holder = string.match(value, '^([^|]*)|([^|]*)|')
if holder ~= conn then return false end
redis.call('HDEL', members, pid)
local all = redis.call('HGETALL', members)
local rest = {}
for i = 1, #all, 2 do
  table.insert(rest, all[i] .. ':' .. string.match(all[i + 1], '^([^|]*)|'))
end
local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
  'ev', 'left', 'p', pid, 'r', role, 'conn', conn, 'ms', table.concat(rest, ' '))
redis.call('EXPIRE', stream, ttl)
return id
"""

_REFRESH = """
local members, pid, role, conn, ttl = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local value = redis.call('HGET', members, pid)
if value then
  local holder = string.match(value, '^[^|]*|([^|]*)|')
  if holder ~= conn then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', members, pid, role .. '|' .. conn .. '|' .. now)
redis.call('EXPIRE', members, ttl)
return 1
"""

_PUBLISH = """
local stream, refs = KEYS[1], KEYS[2]
local payload, ref, maxlen, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if ref ~= '' then
  local seen = redis.call('HGET', refs, ref)
  if seen then return seen end
end
local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'm', payload)
if ref ~= '' then
  redis.call('HSET', refs, ref, id)
  redis.call('EXPIRE', refs, ttl)
end
redis.call('EXPIRE', stream, ttl)
return id
"""

_REMOVE = """
local members, stream, removed = KEYS[1], KEYS[2], KEYS[3]
local pid, maxlen, ttl = ARGV[1], ARGV[2], ARGV[3]
redis.call('SADD', removed, pid)
redis.call('EXPIRE', removed, ttl)
local value = redis.call('HGET', members, pid)
redis.call('HDEL', members, pid)
local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'ctl', 'remove', 'p', pid)
if value then
  -- They were in the room: everyone else hears that they left.
  local role, holder = string.match(value, '^([^|]*)|([^|]*)|')
  local all = redis.call('HGETALL', members)
  local rest = {}
  for i = 1, #all, 2 do
    table.insert(rest, all[i] .. ':' .. string.match(all[i + 1], '^([^|]*)|'))
  end
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
    'ev', 'left', 'p', pid, 'r', role, 'conn', holder, 'ms', table.concat(rest, ' '))
end
redis.call('EXPIRE', stream, ttl)
return id
"""


class JoinResult(msgspec.Struct, frozen=True):
    status: Literal["ok", "full", "removed"]
    entry_id: str = ""
    participants: list[Participant] = msgspec.field(default_factory=list)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RoomStore:
    """The atomic operations on rooms, as Lua scripts registered on one Redis client."""

    def __init__(self, redis: Redis, *, max_participants: int) -> None:
        self.redis = redis
        self.max_participants = max_participants
        self._join = redis.register_script(_JOIN)
        self._leave = redis.register_script(_LEAVE)
        self._refresh = redis.register_script(_REFRESH)
        self._publish = redis.register_script(_PUBLISH)
        self._remove = redis.register_script(_REMOVE)

    async def join(
        self, consultation_id: uuid.UUID, participant: Participant, connection_id: str
    ) -> JoinResult:
        stream, members, _refs, removed = room_keys(consultation_id)
        reply = await self._join(
            keys=[members, stream, removed],
            args=[
                participant.id,
                participant.role,
                connection_id,
                STALE_AFTER_MS,
                self.max_participants,
                STREAM_MAXLEN,
                ROOM_TTL_SECONDS,
            ],
        )
        status = _text(reply[0])
        if status != "ok":
            return JoinResult(status=status)  # type: ignore[arg-type]
        return JoinResult(
            status="ok", entry_id=_text(reply[1]), participants=parse_members(reply[2])
        )

    async def leave(
        self, consultation_id: uuid.UUID, participant_id: str, connection_id: str
    ) -> str | None:
        stream, members, _refs, _removed = room_keys(consultation_id)
        reply = await self._leave(
            keys=[members, stream],
            args=[participant_id, connection_id, STREAM_MAXLEN, ROOM_TTL_SECONDS],
        )
        return _text(reply) if reply else None

    async def refresh(
        self, consultation_id: uuid.UUID, participant: Participant, connection_id: str
    ) -> bool:
        _stream, members, _refs, _removed = room_keys(consultation_id)
        reply = await self._refresh(
            keys=[members],
            args=[participant.id, participant.role, connection_id, ROOM_TTL_SECONDS],
        )
        return bool(reply)

    async def publish(
        self, consultation_id: uuid.UUID, payload: bytes, dedupe: str | None = None
    ) -> str:
        """Append a relayed message; a ``dedupe`` key seen before returns the first id."""
        stream, _members, refs, _removed = room_keys(consultation_id)
        reply = await self._publish(
            keys=[stream, refs],
            args=[payload, dedupe or "", STREAM_MAXLEN, ROOM_TTL_SECONDS],
        )
        return _text(reply)

    async def remove(self, consultation_id: uuid.UUID, participant_id: str) -> str:
        stream, members, _refs, removed = room_keys(consultation_id)
        reply = await self._remove(
            keys=[members, stream, removed],
            args=[participant_id, STREAM_MAXLEN, ROOM_TTL_SECONDS],
        )
        return _text(reply)

    async def readmit(self, consultation_id: uuid.UUID, participant_id: str) -> None:
        """Let a removed participant join again (they were invited back)."""
        _stream, _members, _refs, removed = room_keys(consultation_id)
        await self.redis.srem(removed, participant_id)

    async def members(self, consultation_id: uuid.UUID) -> list[Participant]:
        """Who is in the room now (members whose instance stopped refreshing excluded)."""
        _stream, members, _refs, _removed = room_keys(consultation_id)
        raw: dict[Any, Any] = await self.redis.hgetall(members)
        now_ms = await self._now_ms()
        present = []
        for pid, value in raw.items():
            role, _conn, seen = _text(value).split("|")
            if now_ms - int(seen) <= STALE_AFTER_MS:
                present.append(msgspec.convert({"id": _text(pid), "role": role}, Participant))
        return sorted(present, key=lambda member: member.id)

    async def _now_ms(self) -> int:
        seconds, micros = await self.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def last_id(self, consultation_id: uuid.UUID) -> str:
        entries = await self.redis.xrevrange(stream_key(consultation_id), count=1)
        return _text(entries[0][0]) if entries else "0-0"

    async def trimmed_past(self, consultation_id: uuid.UUID, last_seen: StreamId) -> bool:
        """True if entries after ``last_seen`` were trimmed away (a resume would have a gap)."""
        try:
            info = await self.redis.xinfo_stream(stream_key(consultation_id))
        except Exception:  # no such stream: nothing was kept, and nothing was trimmed either
            return False
        deleted = parse_stream_id(_text(info.get("max-deleted-entry-id", "0-0")))
        return deleted is not None and deleted > last_seen
