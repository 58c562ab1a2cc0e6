"""The per-instance signaling hub: local sockets, their rooms, and one reader of Redis.

Each app instance runs one hub (started in the app's lifespan). It keeps the WebSocket
connections of this instance by room and runs ONE reader task that blocks in ``XREAD`` over
the streams of every room it serves, forwarding each entry to the local connections it is
meant for. A connection that joins replays what it missed (``XRANGE`` after its ``last_id``)
while the reader buffers live entries for it, then switches to live delivery: entries reach
a socket once each and in stream order.

One room cannot hold up the others' read. A client's ``last_id`` only ever serves its own
catch-up, and only once it is exactly a stream id (else the join is refused) and no later
than the entry announcing its join (else the client starts from now and is told of a gap).
Where the shared read continues in a room comes from Redis alone: that entry, then the last
one read. An entry the hub cannot make sense of is skipped, not failed on for every room. If
Redis still refuses the shared read, the hub reads each room alone, closes the connections of
the rooms it refuses (they reconnect, and their join says whether the room can be read
again) and carries on with the rest; only when it refuses every room (Redis itself is
failing) does the reader wait and retry.

A connection's outgoing messages wait in a bounded queue; a socket that cannot keep up is
closed (its client reconnects and resumes from its last id, so nothing is lost).

When the consultation publishes a final status (the visit ended, however it ended), every
connection of the room hears it and is then closed: the room is over, and its tokens no
longer open it (the route asks the consultation before joining).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from medmarket.services import Port
from medmarket.signaling import messages as m
from medmarket.signaling.entries import Entry
from medmarket.signaling.rooms import (
    REFRESH_EVERY_SECONDS,
    RoomStore,
    StreamId,
    format_stream_id,
    parse_stream_id,
    stream_key,
)
from medmarket.signaling.tokens import RoomGrant

log = logging.getLogger("medmarket.signaling")
READ_BLOCK_MS = 1000
READ_COUNT = 200
CATCH_UP_PAGE = 500
OUTGOING_QUEUE = 512
OBSERVER_TIMEOUT_SECONDS = 5.0
# How long the reader waits before reading again when Redis fails it (not one room).
READ_RETRY_SECONDS = 0.5

# Told when a participant came into or left a room (not when a reconnect replaced their
# connection): the consultation keeps its record of who was there. Observers must not raise.
# Higher domains provide them to PRESENCE_OBSERVERS; each instance's hub tells them all.
PresenceObserver = Callable[[RoomGrant, Literal["joined", "left"]], Awaitable[None]]
PRESENCE_OBSERVERS: Port[PresenceObserver] = Port("signaling presence observers", many=True)


class JoinRefused(Exception):
    def __init__(self, code: m.ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(eq=False)
class Connection:
    """One local WebSocket in a room. ``outgoing`` holds encoded frames for its writer;
    ``None`` asks the writer to close the socket with ``close_code``."""

    grant: RoomGrant
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    outgoing: asyncio.Queue[bytes | None] = field(
        default_factory=lambda: asyncio.Queue(OUTGOING_QUEUE)
    )
    last_delivered: StreamId = (0, 0)
    joined_at: StreamId = (0, 0)  # the stream entry announcing this connection
    live: bool = False
    pending: list[Entry] = field(default_factory=list)
    closing: bool = False
    removed: bool = False  # the consultation removed this participant
    close_code: int = 1000

    @property
    def participant(self) -> m.Participant:
        return m.Participant(self.grant.participant_id, self.grant.role)

    def push(self, frame: bytes) -> None:
        if self.closing:
            return
        try:
            self.outgoing.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("connection %s is not reading; closing it", self.id)
            self.close(m.CloseCode.TRY_LATER)

    def close(self, code: int, last_words: bytes | None = None) -> None:
        if self.closing:
            return
        if last_words is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self.outgoing.put_nowait(last_words)
        self.closing, self.close_code = True, code
        # Make room for the close marker even if the queue is full: the socket is done.
        while self.outgoing.full():
            self.outgoing.get_nowait()
        self.outgoing.put_nowait(None)


@dataclass(eq=False)
class Room:
    consultation_id: uuid.UUID
    key: str
    # Where the reader continues, always an id Redis gave; None while it does not read the
    # room (until its first connection has joined, or after Redis refused to read it).
    cursor: StreamId | None = None
    connections: dict[str, Connection] = field(default_factory=dict)


class SignalingHub:
    def __init__(
        self,
        redis_factory: Callable[[], Redis],
        *,
        max_participants: int,
    ) -> None:
        self._redis_factory = redis_factory
        self.redis = redis_factory()
        self.store = RoomStore(self.redis, max_participants=max_participants)
        self.rooms: dict[uuid.UUID, Room] = {}
        self._by_key: dict[bytes, Room] = {}
        self._generation = 0
        self._reader_generation = -1
        self._reader_client_id: int | None = None
        self._rooms_changed = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self.presence_observers: list[PresenceObserver] = []

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._read_forever(), name="signaling-reader"),
            asyncio.create_task(self._refresh_forever(), name="signaling-presence"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        self._rooms_changed.set()
        tasks = [*self._tasks, *self._background]
        for task in tasks:
            # redis-py can swallow a cancellation that lands inside a command; cancel again
            # until the task has really ended.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
        for room in list(self.rooms.values()):
            for connection in list(room.connections.values()):
                connection.close(1012)  # service restart: reconnect elsewhere
                await self.leave(connection)
        await self.redis.aclose()

    # -- joining and leaving ---------------------------------------------------------------
    async def join(self, grant: RoomGrant, last_id: str | None) -> tuple[Connection, m.Welcome]:
        """Admit a connection to its room, resuming after ``last_id`` (an id this room's
        stream gave the client). Raises JoinRefused (malformed ``last_id``, room full,
        removed)."""
        resume_from = None
        if last_id is not None:
            resume_from = parse_stream_id(last_id)
            if resume_from is None:
                raise JoinRefused(
                    "malformed", "last_id must be a stream id the room sent (<ms>-<seq>)"
                )
        connection = Connection(grant)
        room = self._room_for(grant.consultation_id)
        room.connections[connection.id] = connection  # buffer live entries from now on
        try:
            joined = await self.store.join(
                grant.consultation_id, connection.participant, connection.id
            )
        except BaseException:
            self._forget(connection)
            raise
        if joined.status != "ok":
            self._forget(connection)
            if joined.status == "full":
                raise JoinRefused("room-full", "this consultation already has the most people")
            raise JoinRefused("removed", "you were removed from this consultation")
        connection.joined_at = parse_stream_id(joined.entry_id) or (0, 0)
        # Nothing the client saw can be newer than its own join: an id beyond it was not
        # this stream's (or the stream lost it), so the client starts from now.
        beyond = resume_from is not None and resume_from > connection.joined_at
        start = connection.joined_at if resume_from is None or beyond else resume_from
        connection.last_delivered = start
        self._read_from(room, connection.joined_at)
        welcome = m.Welcome(
            consultation_id=str(grant.consultation_id),
            participant=connection.participant,
            participants=joined.participants,
            last_id=format_stream_id(start),
        )
        connection.push(m.encoder.encode(welcome))
        try:
            await self._observe(grant, "joined")
            if beyond or (
                resume_from and await self.store.trimmed_past(grant.consultation_id, resume_from)
            ):
                gap = m.Error(code="resume-gap", message="some messages expired; renegotiate")
                connection.push(m.encoder.encode(gap))
            await self._catch_up(room, connection)
        except BaseException:
            await self.leave(connection)
            raise
        return connection, welcome

    async def leave(self, connection: Connection) -> None:
        self._forget(connection)
        grant = connection.grant
        left = None
        with contextlib.suppress(RedisError, OSError):
            left = await self.store.leave(
                grant.consultation_id, grant.participant_id, connection.id
            )
        # None: a newer connection of theirs holds the seat, they were removed (the removal
        # said they left), or Redis failed.
        if left is not None or connection.removed:
            await self._observe(grant, "left")

    async def _observe(self, grant: RoomGrant, event: Literal["joined", "left"]) -> None:
        for observer in self.presence_observers:
            try:
                async with asyncio.timeout(OBSERVER_TIMEOUT_SECONDS):
                    await observer(grant, event)
            except Exception:
                log.exception("presence observer failed for %s", grant.consultation_id)

    def _room_for(self, consultation_id: uuid.UUID) -> Room:
        room = self.rooms.get(consultation_id)
        if room is None:
            key = stream_key(consultation_id)
            room = Room(consultation_id, key)
            self.rooms[consultation_id] = room
            self._by_key[key.encode()] = room
        return room

    def _read_from(self, room: Room, start: StreamId) -> None:
        """Make the reader read ``room`` from ``start`` (an id Redis gave: a join's own
        entry) on, or from earlier. A connection's catch-up covers what is already stored;
        this guarantees the reader covers the rest, whatever the order in which concurrent
        joins finish. Re-reading is harmless: each connection skips ids it already has."""
        if room.cursor is not None and room.cursor <= start:
            return
        was_reading = room.cursor is not None
        room.cursor = start
        self._generation += 1
        if not was_reading:
            self._rooms_changed.set()
            task = asyncio.create_task(self._wake_reader())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _forget(self, connection: Connection) -> None:
        room = self.rooms.get(connection.grant.consultation_id)
        if room is None:
            return
        room.connections.pop(connection.id, None)
        if not room.connections:
            del self.rooms[room.consultation_id]
            del self._by_key[room.key.encode()]
            self._generation += 1

    async def _catch_up(self, room: Room, connection: Connection) -> None:
        lower = "(" + format_stream_id(connection.last_delivered)
        while True:
            entries: list[Any] = await self.redis.xrange(  # type: ignore[assignment]
                room.key, min=lower, count=CATCH_UP_PAGE
            )
            for raw_id, fields in entries:
                self._deliver(connection, Entry.parse(raw_id, fields))
            if len(entries) < CATCH_UP_PAGE:
                break
            lower = "(" + entries[-1][0].decode()
        for entry in connection.pending:
            self._deliver(connection, entry)
        connection.pending.clear()
        connection.live = True

    # -- publishing ------------------------------------------------------------------------
    async def publish(self, connection: Connection, message: m.ClientMessage) -> str:
        grant = connection.grant
        relayed = msgspec.structs.replace(
            message, ref=None, id=None, sender=grant.participant_id, sender_role=grant.role
        )
        dedupe = f"{grant.participant_id}:{message.ref}" if message.ref else None
        return await self.store.publish(
            grant.consultation_id, m.encoder.encode(relayed), dedupe=dedupe
        )

    async def remove_participant(self, consultation_id: uuid.UUID, participant_id: str) -> None:
        """Close the participant's connection (on every instance) and refuse their rejoining."""
        await self.store.remove(consultation_id, participant_id)

    async def readmit_participant(self, consultation_id: uuid.UUID, participant_id: str) -> None:
        """Undo a removal: the participant may join again."""
        await self.store.readmit(consultation_id, participant_id)

    # -- the reader ------------------------------------------------------------------------
    async def _wake_reader(self) -> None:
        """Interrupt the reader's blocking XREAD so it picks up a new room now rather than
        at the end of its block; retry while it is between two reads."""
        target = self._generation
        for _ in range(100):
            if self._reader_generation >= target or self._reader_client_id is None:
                return
            try:
                if await self.redis.client_unblock(self._reader_client_id):
                    return
            except (RedisError, OSError):
                return
            await asyncio.sleep(0.01)

    async def _read_forever(self) -> None:
        reader: Redis | None = None
        while not self._stopping:
            try:
                if reader is None:
                    reader = self._redis_factory()
                    self._reader_client_id = int(await reader.client_id())
                if not self.rooms:
                    self._rooms_changed.clear()
                    self._reader_generation = self._generation
                    await self._rooms_changed.wait()
                    continue
                self._reader_generation = self._generation
                requested: dict[bytes, tuple[Room, StreamId | None]] = {
                    room.key.encode(): (room, room.cursor)
                    for room in self.rooms.values()
                    if room.cursor is not None
                }
                if not requested:
                    self._rooms_changed.clear()
                    await self._rooms_changed.wait()
                    continue
                streams: dict[Any, Any] = {
                    key: format_stream_id(cursor)
                    for key, (_, cursor) in requested.items()
                    if cursor is not None
                }
                try:
                    reply: Any = await reader.xread(streams, count=READ_COUNT, block=READ_BLOCK_MS)
                except ResponseError:
                    reply = await self._read_each_room(reader, streams, requested)
                self._dispatch(reply or [], dict(requested))
            except asyncio.CancelledError:
                if reader is not None:
                    await reader.aclose()
                raise
            except Exception:
                log.exception("signaling reader failed; reconnecting")
                if reader is not None:
                    with contextlib.suppress(Exception):
                        await reader.aclose()
                reader, self._reader_client_id = None, None
                await asyncio.sleep(READ_RETRY_SECONDS)
        if reader is not None:
            await reader.aclose()

    async def _read_each_room(
        self,
        reader: Redis,
        streams: dict[Any, Any],
        requested: dict[bytes, tuple[Room, StreamId | None]],
    ) -> list[Any]:
        """Redis refused the shared read: read each room on its own (without blocking), let
        go of the rooms it refuses, and return what the others hold. When it refuses every
        room, the fault is not a room's: raise, and the reader waits and retries."""
        async with reader.pipeline(transaction=False) as pipe:
            for key, cursor in streams.items():
                pipe.xread({key: cursor}, count=READ_COUNT)
            replies = await pipe.execute(raise_on_error=False)
        refused = [
            (key, reply)
            for key, reply in zip(streams, replies, strict=True)
            if isinstance(reply, Exception)
        ]
        if len(refused) == len(replies):
            raise refused[0][1]
        for key, error in refused:
            self._let_go(requested[key][0], error)
        return [
            stream
            for reply in replies
            if not isinstance(reply, Exception)
            for stream in reply or []
        ]

    def _let_go(self, room: Room, error: Exception) -> None:
        """Stop reading a room Redis refuses to read, and close its connections: their
        clients reconnect, and joining tells them whether the room can be read again."""
        log.error("signaling room %s cannot be read (%s); closing it", room.consultation_id, error)
        room.cursor = None
        for connection in list(room.connections.values()):
            connection.close(m.CloseCode.TRY_LATER, m.encoder.encode(_UNREADABLE))

    def _dispatch(
        self, reply: list[Any], requested: dict[bytes, tuple[Room, StreamId | None]]
    ) -> None:
        for raw_key, entries in reply:
            room, cursor = requested[raw_key]
            if self._by_key.get(raw_key) is not room:
                continue  # the room's last socket left while we were reading
            last: StreamId | None = None
            for raw_id, fields in entries:
                entry = Entry.parse(raw_id, fields)
                last = entry.sid
                for connection in list(room.connections.values()):
                    if connection.live:
                        self._deliver(connection, entry)
                    else:
                        connection.pending.append(entry)
            # A join may have moved the cursor back meanwhile; then the re-read wins.
            if last is not None and room.cursor == cursor:
                room.cursor = last

    def _deliver(self, connection: Connection, entry: Entry) -> None:
        if entry.sid <= connection.last_delivered:
            return
        connection.last_delivered = entry.sid
        me = connection.grant.participant_id
        if entry.removes == me:
            connection.removed = True
            connection.close(m.CloseCode.REMOVED, m.encoder.encode(_REMOVED))
            return
        if entry.frame is None:
            return
        if entry.ends_room:
            # Whoever ended the visit knows it already (their HTTP answer said so).
            if entry.sender != me:
                connection.push(entry.frame)
            connection.close(m.CloseCode.TOKEN, m.encoder.encode(_ENDED))
            return
        if entry.sender is not None and (
            entry.sender == me or (entry.to is not None and entry.to != me)
        ):
            return
        if (
            entry.joined == me
            and entry.connection_id != connection.id
            and entry.sid > connection.joined_at
        ):
            # The same person joined again after us (another tab, or a reconnect that beat
            # this socket's timeout): the newer connection wins. An older join of ours that
            # a resume replays is only history.
            connection.close(m.CloseCode.REPLACED, m.encoder.encode(_REPLACED))
            return
        connection.push(entry.frame)

    # -- presence --------------------------------------------------------------------------
    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY_SECONDS)
            for room in list(self.rooms.values()):
                for connection in list(room.connections.values()):
                    try:
                        kept = await self.store.refresh(
                            room.consultation_id, connection.participant, connection.id
                        )
                    except (RedisError, OSError):
                        log.warning("presence refresh failed; will retry")
                        continue
                    if not kept:
                        connection.close(m.CloseCode.REPLACED, m.encoder.encode(_REPLACED))


_REPLACED = m.Error(code="replaced", message="you joined this consultation from elsewhere")
_REMOVED = m.Error(code="removed", message="you were removed from this consultation")
_ENDED = m.Error(code="ended", message="this consultation has ended")
_UNREADABLE = m.Error(code="unavailable", message="signaling failed in this room; reconnect")
