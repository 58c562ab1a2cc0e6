"""A room's keys in Redis: every key of one consultation lands in one Redis Cluster hash slot,
so the room's Lua scripts (which touch several of them at once) can run on a cluster."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot

from medmarket.signaling.rooms import room_keys, stream_key


@given(st.uuids())
def test_every_key_of_a_room_is_in_the_slot_of_its_consultation(consultation: uuid.UUID) -> None:
    keys = room_keys(consultation)
    assert stream_key(consultation) in keys
    assert len(set(keys)) == len(keys) == 4
    # Redis Cluster hashes only the {...} part of a key: the consultation id, for every key.
    slot = key_slot(str(consultation).encode())
    assert {key_slot(key.encode()) for key in keys} == {slot}


def test_rooms_of_different_consultations_are_spread_over_the_slots() -> None:
    slots = {key_slot(stream_key(uuid.uuid4()).encode()) for _ in range(200)}
    assert len(slots) > 150  # not one hash tag shared by every room
