"""Resuming under load: a receiver whose socket keeps dying, reconnecting to alternating
instances while the sender never stops, still gets every message once and in order."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from medmarket.signaling import messages as m
from medmarket.signaling.client import SignalingClient
from medmarket.tests.support.video_fixtures import InstancePair

pytestmark = pytest.mark.slow
MESSAGES = 300


def received_marks(client_signals: list[m.ServerMessage]) -> list[int]:
    return [int(s.sdp_mid) for s in client_signals if isinstance(s, m.Candidate) and s.sdp_mid]


async def test_repeated_reconnects_lose_and_repeat_nothing(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    sender = SignalingClient(consultation, instance_pair.token(consultation, "sender"))
    receiver = SignalingClient(consultation, instance_pair.token(consultation, "receiver"))
    await receiver.connect(instance_pair.urls[1])
    await sender.connect(instance_pair.urls[0])
    seen: list[m.ServerMessage] = []

    async def collect() -> None:
        while True:
            seen.append(await receiver.inbox.get())

    async def send_all() -> None:
        for index in range(MESSAGES):
            await sender.send(m.Candidate(candidate="", sdp_mid=str(index)))
            await asyncio.sleep(0.004)
        await sender.wait_acked(timeout=60)

    collector = asyncio.create_task(collect())
    sending = asyncio.create_task(send_all())
    try:
        for round_number in range(6):
            # Wait for progress (a condition, not a guess), then cut the receiver off.
            target = len(received_marks(seen)) + 20
            async with asyncio.timeout(60):
                while len(received_marks(seen)) < min(target, MESSAGES) and not sending.done():
                    await asyncio.sleep(0.01)
            receiver.kill()
            await asyncio.sleep(0.05)  # let the sender get ahead while nobody listens
            await receiver.connect(instance_pair.urls[round_number % 2])
        await sending
        async with asyncio.timeout(60):
            while len(received_marks(seen)) < MESSAGES:
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # anything duplicated would have arrived by now
        assert received_marks(seen) == list(range(MESSAGES))
    finally:
        collector.cancel()
        sending.cancel()
        await sender.close()
        await receiver.close()
