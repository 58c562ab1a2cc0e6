"""One room cannot stall the others: a participant who resumes with cursors Redis would refuse
(or ones far beyond the stream's end), again and again, leaves another room of the same
instance relaying as fast as before, and their own room too; and a room whose stream Redis
refuses to read for any reason is cut off alone while the others carry on."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from medmarket.signaling import messages as m
from medmarket.signaling.client import SignalingClient, SignalingClosed
from medmarket.signaling.hub import READ_RETRY_SECONDS
from medmarket.signaling.rooms import stream_key
from medmarket.tests.support.video_fixtures import InstancePair

pytestmark = pytest.mark.slow

# Ids Redis refuses, or reads differently from what they say: beyond 64 bits, signed, padded.
REFUSED_CURSORS = [
    "99999999999999999999-1",
    "18446744073709551616-0",
    "1-18446744073709551616",
    "-1-0",
    "+1-0",
    " 1-0",
    "1-0\n",
    "1",
    "$",
    "0x10-0",
    "١-٠",
]
# Valid ids past anything the stream holds: Redis takes them, and would read nothing.
FAR_FUTURE_CURSORS = [
    "18446744073709551615-18446744073709551615",
    "18446744073709551615-0",
    "99999999999999-0",
]
# A message is late when it takes half of what a failing read makes the hub wait.
LATE_SECONDS = READ_RETRY_SECONDS / 2
MISSING = float("inf")


@dataclass
class Relay:
    """A sender and a receiver in one room, both on the same instance."""

    sender: SignalingClient
    receiver: SignalingClient
    sent: int = 0
    latencies: list[float] = field(default_factory=list)

    async def measure(self, count: int, *, wait: float = 2.0) -> list[float]:
        """Send ``count`` messages one after another; each one's time to arrive (MISSING if
        it did not arrive within ``wait``)."""
        latencies = []
        for _ in range(count):
            mark = f"probe-{self.sent}"
            self.sent += 1
            started = time.perf_counter()
            frame = m.encoder.encode(m.Candidate(candidate="", sdp_mid=mark)).decode()
            await self.sender.send_raw(frame)
            try:
                async with asyncio.timeout(wait):
                    while True:
                        message = await self.receiver.inbox.get()
                        if isinstance(message, m.Candidate) and message.sdp_mid == mark:
                            break
                latencies.append(time.perf_counter() - started)
            except TimeoutError:
                latencies.append(MISSING)
            await asyncio.sleep(0.02)
        self.latencies.extend(latencies)
        return latencies


@contextlib.asynccontextmanager
async def relay(pair: InstancePair, consultation: uuid.UUID) -> AsyncIterator[Relay]:
    url = pair.urls[0]  # every room of these tests on one instance: one hub, one reader
    sender = SignalingClient(consultation, pair.token(consultation, uuid.uuid4().hex[:12]))
    receiver = SignalingClient(consultation, pair.token(consultation, uuid.uuid4().hex[:12]))
    await receiver.connect(url)
    await sender.connect(url)
    try:
        yield Relay(sender, receiver)
    finally:
        await sender.close()
        await receiver.close()


class Attacker:
    """Joins a room again and again, each time resuming from a cursor of its choosing, and
    holds on to every connection the server lets it keep."""

    def __init__(self, pair: InstancePair, consultation: uuid.UUID) -> None:
        self.pair, self.consultation = pair, consultation
        self.token = pair.token(consultation, "mallory")
        self.held: list[SignalingClient] = []
        self.outcomes: dict[str, set[str]] = {}

    async def join(self, cursor: str) -> None:
        client = SignalingClient(self.consultation, self.token)
        client.last_id = cursor
        try:
            welcome = await client.connect(self.pair.urls[0], timeout=10)
        except SignalingClosed as closed:
            outcome = f"refused {closed.code} {closed.error.code if closed.error else ''}"
        except (OSError, TimeoutError) as exc:
            outcome = f"failed {type(exc).__name__}"
        else:
            outcome = f"welcomed at {welcome.last_id}"
            self.held.append(client)
        self.outcomes.setdefault(cursor, set()).add(outcome)

    async def keep_joining(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for cursor in REFUSED_CURSORS + FAR_FUTURE_CURSORS:
                await self.join(cursor)
                await asyncio.sleep(0.005)

    async def close(self) -> None:
        for client in self.held:
            await client.close()


def late(latencies: list[float]) -> list[float]:
    return [latency for latency in latencies if latency >= LATE_SECONDS]


async def test_bad_cursors_in_one_room_leave_another_rooms_relay_as_fast(
    instance_pair: InstancePair,
) -> None:
    room_a, room_b = uuid.uuid4(), uuid.uuid4()
    attacker = Attacker(instance_pair, room_a)
    stop = asyncio.Event()
    async with relay(instance_pair, room_b) as b:
        baseline = await b.measure(20)
        assert not late(baseline), f"the instance is too slow to judge: {baseline}"
        # The attacker is first in room A, then honest people join it on the same instance.
        for cursor in REFUSED_CURSORS[:1] + FAR_FUTURE_CURSORS:
            await attacker.join(cursor)
        async with relay(instance_pair, room_a) as a:
            attacking = asyncio.create_task(attacker.keep_joining(stop))
            try:
                during_b = await b.measure(40)
                during_a = await a.measure(10)
            finally:
                stop.set()
                await attacking
                await attacker.close()
    assert not late(during_b), (
        f"room B was slowed by room A's cursors: {during_b} (before: {baseline}); "
        f"the attacker got {attacker.outcomes}"
    )
    assert statistics.median(during_b) <= 5 * statistics.median(baseline) + 0.02
    assert not late(during_a), f"room A's honest people were slowed: {during_a}"
    # Every cursor the reader could not use was refused, never taken.
    for cursor in REFUSED_CURSORS:
        assert attacker.outcomes[cursor] == {"refused 4400 malformed"}, (
            cursor,
            attacker.outcomes[cursor],
        )


async def test_a_resume_from_beyond_the_streams_end_starts_now_and_says_so(
    instance_pair: InstancePair,
) -> None:
    consultation = uuid.uuid4()
    async with relay(instance_pair, consultation) as room:
        await room.measure(3)
        for cursor in FAR_FUTURE_CURSORS:
            client = SignalingClient(consultation, instance_pair.token(consultation, "resumer"))
            client.last_id = cursor
            welcome = await client.connect(instance_pair.urls[0])
            # Where it really is in the stream: its own join, not the cursor it claimed.
            assert welcome.last_id != cursor
            assert (await client.receive_kind(m.Error)).code == "resume-gap"
            # And it hears what is said from now on.
            await room.sender.send(m.Candidate(candidate="", sdp_mid=f"after-{cursor}"))
            heard = await client.receive_kind(m.Candidate)
            assert heard.sdp_mid == f"after-{cursor}"
            await client.close()


async def test_a_room_redis_cannot_read_is_closed_alone(instance_pair: InstancePair) -> None:
    """Whatever makes Redis refuse one room's read (here its stream replaced by a string),
    the hub's shared read must not fail, and wait, for every room."""
    room_a, room_b = uuid.uuid4(), uuid.uuid4()
    async with relay(instance_pair, room_b) as b, relay(instance_pair, room_a) as a:
        baseline = await b.measure(10)
        redis = Redis.from_url(instance_pair.settings.redis_url)
        try:
            async with redis.pipeline(transaction=True) as swap:
                swap.delete(stream_key(room_a))
                swap.set(stream_key(room_a), "not a stream")
                await swap.execute()
            during = await b.measure(30)
            # Room A's people were told and let go: they reconnect, and the join says
            # whether their room can be read again.
            async with asyncio.timeout(10):
                while a.receiver.closed_code is None:
                    await asyncio.sleep(0.02)
            assert a.receiver.closed_code == 1013
            assert a.receiver.last_error is not None
            assert a.receiver.last_error.code == "unavailable"
        finally:
            await redis.delete(stream_key(room_a))
            await redis.aclose()
        assert not late(during), f"room B waited for room A: {during} (before: {baseline})"


@pytest.mark.parametrize(
    "fields",
    [
        {"ev": "joined"},  # presence without who
        {"m": "not json"},
        {"ev": "joined", "p": "x", "r": "surgeon", "ms": ""},  # no such role
        {"ctl": "remove"},
        {"ev": "joined", "p": b"\xff", "r": "guest", "ms": ""},
    ],
)
async def test_an_entry_the_hub_cannot_read_is_skipped(
    instance_pair: InstancePair, fields: dict[FieldT, EncodableT]
) -> None:
    """Our scripts write every entry, but one they did not write must not make the reader
    fail on it for ever (and every room with it)."""
    room_a, room_b = uuid.uuid4(), uuid.uuid4()
    async with relay(instance_pair, room_b) as b, relay(instance_pair, room_a) as a:
        redis = Redis.from_url(instance_pair.settings.redis_url)
        try:
            await redis.xadd(stream_key(room_a), fields)
        finally:
            await redis.aclose()
        during_b = await b.measure(10)
        during_a = await a.measure(5)
    assert not late(during_b), f"room B waited for room A's entry: {during_b}"
    assert not late(during_a), f"room A stopped at its entry: {during_a}"
