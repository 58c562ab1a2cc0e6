"""Publishing into a consultation's signaling room from the server: chat that was stored and
changes of the consultation's status, so every participant's page hears of them at once.

A publication is staged inside the transaction that makes the change (an outbox message,
due a few seconds later) and sent right after commit. Both carry the same key, which the room
deduplicates, so whichever comes first is relayed and the other is a no-op: nothing is lost
if this instance dies between commit and publish, and nothing is relayed twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any, Protocol

from redis.exceptions import RedisError

from medmarket import outbox
from medmarket.db import Connection
from medmarket.outbox.worker import OutboxMessage
from medmarket.signaling import messages as m
from medmarket.signaling.rooms import RoomStore
from medmarket.signaling.tokens import ParticipantRole

log = logging.getLogger("medmarket.consults")
RELAY_TOPIC = "consultation.relay"
# The outbox copy waits this long, so normally the direct publish after commit wins.
RELAY_FALLBACK_SECONDS = 5.0


class RoomControl(Protocol):
    """Who may be in a room (the signaling hub of this instance, ``app.state.signaling``)."""

    async def remove_participant(self, consultation_id: uuid.UUID, participant_id: str) -> None:
        """Close the participant's connection everywhere and refuse their rejoining."""
        ...

    async def readmit_participant(self, consultation_id: uuid.UUID, participant_id: str) -> None:
        """Undo a removal."""
        ...


class Staged:
    """A publication waiting for its transaction to commit."""

    def __init__(self, consultation_id: uuid.UUID, frame: bytes, key: str) -> None:
        self.consultation_id, self.frame, self.key = consultation_id, frame, key


def _dedupe(key: str) -> str:
    # The room's dedupe keys are "<participant>:<ref>"; the server's never look like one.
    return f"server:{key}"


class RoomAnnouncer:
    def __init__(self, rooms: RoomStore) -> None:
        self.rooms = rooms

    async def stage(
        self,
        connection: Connection,
        consultation_id: uuid.UUID,
        message: m.ServerPublished,
        key: str,
    ) -> Staged:
        """Stage ``message`` for the room, in the caller's transaction. ``key`` names the
        event (e.g. "chat:<message id>"): staging it again publishes it once."""
        frame = m.encoder.encode(message)
        await _enqueue(connection, consultation_id, frame, key)
        return Staged(consultation_id, frame, key)

    async def send(self, *staged: Staged) -> None:
        """After commit: publish now. A failure is only logged (the outbox copy follows)."""
        for item in staged:
            try:
                await self.rooms.publish(item.consultation_id, item.frame, dedupe=_dedupe(item.key))
            except (RedisError, OSError):
                log.warning("room of %s unreachable; the outbox relays it", item.consultation_id)


async def _enqueue(
    connection: Connection, consultation_id: uuid.UUID, frame: bytes, key: str
) -> None:
    await outbox.enqueue(
        connection,
        RELAY_TOPIC,
        {"consultation_id": str(consultation_id), "frame": frame.decode(), "key": key},
        dedupe_key=f"{RELAY_TOPIC}:{key}",
        delay_seconds=RELAY_FALLBACK_SECONDS,
    )


def status_message(
    status: str, actor: uuid.UUID | None, role: ParticipantRole | None, at: dt.datetime
) -> m.StatusChange:
    """The consultation moved to ``status``; ``actor`` (None: the platform) caused it."""
    return m.StatusChange(
        status=status, at=at, sender=str(actor) if actor else None, sender_role=role
    )


def status_key(consultation_id: uuid.UUID, status: str) -> str:
    return f"status:{consultation_id}:{status}"


async def stage_final_status(
    connection: Connection,
    consultation_id: uuid.UUID,
    status: str,
    actor: uuid.UUID | None,
    role: ParticipantRole | None,
) -> None:
    """Tell the room that its consultation ended (the room then closes), from the transaction
    that ends the booking, whichever way it ends: a cancellation by either side, an outcome
    recorded on the booking, a doctor's no-show. The outbox relays it after commit; the
    consultation's own end stages the same key and publishes at once, so it is relayed once."""
    frame = m.encoder.encode(status_message(status, actor, role, dt.datetime.now(dt.UTC)))
    await _enqueue(connection, consultation_id, frame, status_key(consultation_id, status))


async def relay(rooms: RoomStore, message: OutboxMessage) -> None:
    """The outbox handler of RELAY_TOPIC (idempotent: the room drops a key it has seen)."""
    payload: dict[str, Any] = message.payload
    await rooms.publish(
        uuid.UUID(payload["consultation_id"]),
        payload["frame"].encode(),
        dedupe=_dedupe(payload["key"]),
    )
