"""Signaling relay across two instances: N rooms, each with a sender on one instance and a
receiver on the other (alternating), at a total rate of R messages per second. Reports
relay latency (WebSocket in, Redis Stream, WebSocket out) beside the bare Redis floor
(XADD then XREAD over as many streams, on loopback) measured in the same run, and checks
that nothing was lost, duplicated or reordered, and that the senders kept the requested rate
(a client that falls behind sends fewer messages per second, which would flatter latency)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections import defaultdict
from itertools import pairwise
from typing import Any

from harness import bench_settings, summary_ms, two_instances, write_result
from redis.asyncio import Redis

from medmarket.settings import Settings
from medmarket.signaling import messages as m
from medmarket.signaling.client import SignalingClient
from medmarket.signaling.tokens import mint_room_token, slot_window

WARM_UP_SECONDS = 2.0
# Below this share of the requested rate the run did not test what it says it tested.
RATE_TARGET_SHARE = 0.95


async def paced(rate_per_stream: float, seconds: float, offset: float, send: Any) -> int:
    """Call ``send(seq)`` at a steady pace; returns how many were sent."""
    interval = 1.0 / rate_per_stream
    start = time.perf_counter() + offset
    count = int(seconds * rate_per_stream)
    for seq in range(count):
        delay = start + seq * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(seq)
    return count


async def redis_floor(redis_url: str, rooms: int, rate: float, seconds: float) -> dict[str, Any]:
    """XADD → XREAD on loopback, over as many streams, at the same rate."""
    prefix = f"bench:floor:{uuid.uuid4().hex[:8]}"
    keys = [f"{prefix}:{{{i}}}" for i in range(rooms)]
    writer, reader = Redis.from_url(redis_url), Redis.from_url(redis_url)
    latencies: list[float] = []
    received: dict[str, list[int]] = defaultdict(list)
    done, all_in = asyncio.Event(), asyncio.Event()
    expected = rooms * int(seconds * rate / rooms)
    measure_from = time.perf_counter() + WARM_UP_SECONDS

    async def read() -> None:
        cursors: dict[Any, Any] = {key: "0-0" for key in keys}
        while not done.is_set():
            reply: Any = await reader.xread(cursors, block=200, count=500)
            now = time.perf_counter()
            for raw_key, entries in reply or []:
                key = raw_key.decode()
                for entry_id, fields in entries:
                    sent = float(fields[b"t"])
                    received[key].append(int(fields[b"s"]))
                    if sent >= measure_from:
                        latencies.append(now - sent)
                    cursors[key] = entry_id
            if sum(map(len, received.values())) >= expected:
                all_in.set()

    async def stream(index: int) -> int:
        key = keys[index]

        async def send(seq: int) -> None:
            await writer.xadd(key, {"s": seq, "t": repr(time.perf_counter())}, maxlen=2000)

        return await paced(rate / rooms, seconds, index / rate, send)

    reading = asyncio.create_task(read())
    started = time.perf_counter()
    sent = sum(await asyncio.gather(*(stream(i) for i in range(rooms))))
    elapsed = time.perf_counter() - started
    await _settle(all_in)
    done.set()
    await reading
    await writer.delete(*keys)
    await writer.aclose()
    await reader.aclose()
    return _verdict(sent, elapsed, received, latencies)


async def _settle(all_in: asyncio.Event, seconds: float = 30.0) -> None:
    """Wait for the stragglers; whatever has not arrived by then counts as lost."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await all_in.wait()


def _verdict(
    sent: int, elapsed: float, received: dict[str, list[int]], latencies: list[float]
) -> dict[str, Any]:
    """``elapsed``: seconds from the first send until the last one returned."""
    got = sum(map(len, received.values()))
    reordered = sum(1 for seqs in received.values() for a, b in pairwise(seqs) if b <= a)
    return {
        "sent": sent,
        "elapsed_seconds": round(elapsed, 3),
        "achieved_per_second": round(sent / elapsed, 1) if elapsed > 0 else 0.0,
        "received": got,
        "lost": sent - len({(k, s) for k, seqs in received.items() for s in seqs}),
        "duplicated": got - len({(k, s) for k, seqs in received.items() for s in seqs}),
        "reordered": reordered,
        "latency": summary_ms(latencies),
    }


async def relay(
    settings: Settings, urls: list[str], rooms: int, rate: float, seconds: float
) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    not_before, expires_at = slot_window(now, now + dt.timedelta(hours=1))
    pairs = []
    for index in range(rooms):
        consultation = uuid.uuid4()

        def client(who: str, consultation: uuid.UUID = consultation) -> SignalingClient:
            token = mint_room_token(settings, consultation, who, "guest", not_before, expires_at)
            return SignalingClient(consultation, token)

        sender, receiver = client("sender"), client("receiver")
        sender_url, receiver_url = urls[index % 2], urls[(index + 1) % 2]
        await receiver.connect(receiver_url)
        await sender.connect(sender_url)
        pairs.append((sender, receiver))
    latencies: list[float] = []
    received: dict[str, list[int]] = defaultdict(list)
    measure_from = time.perf_counter() + WARM_UP_SECONDS
    stop, all_in = asyncio.Event(), asyncio.Event()
    expected = rooms * int(seconds * rate / rooms)
    counted = [0]

    async def receive(index: int, receiver: SignalingClient) -> None:
        while not stop.is_set():
            try:
                message = await receiver.receive(timeout=0.5)
            except TimeoutError:
                continue
            now = time.perf_counter()
            if isinstance(message, m.Candidate):
                seq_text, sent_text = message.candidate.removeprefix("candidate:").split()
                received[str(index)].append(int(seq_text))
                counted[0] += 1
                if counted[0] >= expected:
                    all_in.set()
                sent_at = float(sent_text)
                if sent_at >= measure_from:
                    latencies.append(now - sent_at)

    async def send_room(index: int, sender: SignalingClient) -> int:
        async def send(seq: int) -> None:
            frame = m.encoder.encode(
                m.Candidate(candidate=f"candidate:{seq} {time.perf_counter()!r}")
            )
            await sender.send_raw(frame.decode())

        return await paced(rate / rooms, seconds, index / rate, send)

    receivers = [asyncio.create_task(receive(i, r)) for i, (_, r) in enumerate(pairs)]
    started = time.perf_counter()
    sent = sum(await asyncio.gather(*(send_room(i, s) for i, (s, _) in enumerate(pairs))))
    elapsed = time.perf_counter() - started
    await _settle(all_in)
    stop.set()
    await asyncio.gather(*receivers)
    for sender, receiver in pairs:
        await sender.close()
        await receiver.close()
    return _verdict(sent, elapsed, received, latencies)


async def run(rooms: int = 100, rate: float = 1000.0, seconds: float = 15.0) -> dict[str, Any]:
    async with bench_settings() as settings, two_instances(settings) as instances:
        urls = [instance.url for instance in instances]
        floor = await redis_floor(settings.redis_url, rooms, rate, seconds)
        relayed = await relay(settings, urls, rooms, rate, seconds)
    result = judge(
        {
            "parameters": {
                "rooms": rooms,
                "rate_per_second": rate,
                "seconds": seconds,
                "instances": 2,
            },
            "redis_floor": floor,
            "relay": relayed,
        }
    )
    path = write_result("signaling", result)
    print_result(result, path)
    return result


def judge(result: dict[str, Any]) -> dict[str, Any]:
    """Add the verdict: nothing lost, duplicated or reordered, and the relay's senders sent
    at least ``RATE_TARGET_SHARE`` of the requested rate."""
    relayed, wanted = result["relay"], result["parameters"]["rate_per_second"]
    intact = relayed["lost"] == 0 and relayed["reordered"] == 0 and relayed["duplicated"] == 0
    kept_pace = relayed["achieved_per_second"] >= RATE_TARGET_SHARE * wanted
    return {**result, "intact": intact, "kept_pace": kept_pace, "ok": intact and kept_pace}


def print_result(result: dict[str, Any], path: Any) -> None:
    p = result["parameters"]
    print(
        f"signaling relay: {p['instances']} instances, {p['rooms']} rooms, "
        f"{p['rate_per_second']:g} msg/s for {p['seconds']:g} s"
    )
    columns = (
        ("p50 ms", 9),
        ("p99 ms", 9),
        ("max ms", 9),
        ("sent", 8),
        ("msg/s", 9),
        ("secs", 7),
        ("lost", 6),
        ("dup", 5),
    )
    print(" " * 26 + "".join(f"{name:>{width}}" for name, width in columns) + f"{'reord':>6}")
    for label, key in (
        ("redis floor (XADD→XREAD)", "redis_floor"),
        ("relay (ws→stream→ws)", "relay"),
    ):
        r = result[key]
        lat = r["latency"]
        print(
            f"{label:26}{lat['p50_ms']:9.2f}{lat['p99_ms']:9.2f}{lat['max_ms']:9.2f}"
            f"{r['sent']:8}{r['achieved_per_second']:9.1f}{r['elapsed_seconds']:7.1f}"
            f"{r['lost']:6}{r['duplicated']:5}{r['reordered']:6}"
        )
    print(verdict(result) + f"; wrote {path}")


def verdict(result: dict[str, Any]) -> str:
    achieved = result["relay"]["achieved_per_second"]
    wanted = result["parameters"]["rate_per_second"]
    problems = []
    if not result["intact"]:
        problems.append("loss, duplication or reordering")
    if not result["kept_pace"]:
        problems.append(
            f"sent {achieved:g} msg/s, below {RATE_TARGET_SHARE:.0%} of the requested {wanted:g}"
        )
    if problems:
        return "FAILED: " + "; ".join(problems)
    return f"zero loss, zero reordering, {achieved:g} of {wanted:g} msg/s"
