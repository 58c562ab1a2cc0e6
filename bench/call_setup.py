"""Call setup with aiortc peers across two instances: for each call a patient joins on one
instance and a doctor on the other; the doctor offers. Measures, from the moment the doctor
starts the offer, until both peers are connected and until both have a first video frame."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from harness import bench_settings, summary_ms, two_instances, write_result

from medmarket.settings import Settings
from medmarket.signaling.client import SignalingClient
from medmarket.tests.support.webrtc_peer import CallPeer, use_loopback_only

CALL_TIMEOUT = 60.0


def _token(settings: Settings, consultation: uuid.UUID, who: str, role: str) -> str:
    import datetime as dt

    from medmarket.signaling.tokens import mint_room_token, slot_window

    now = dt.datetime.now(dt.UTC)
    not_before, expires_at = slot_window(now, now + dt.timedelta(hours=1))
    return mint_room_token(settings, consultation, who, role, not_before, expires_at)  # type: ignore[arg-type]


async def one_call(settings: Settings, urls: list[str]) -> tuple[float, float]:
    consultation = uuid.uuid4()
    patient = CallPeer(
        SignalingClient(consultation, _token(settings, consultation, "patient", "patient"))
    )
    doctor = CallPeer(
        SignalingClient(consultation, _token(settings, consultation, "doctor", "doctor"))
    )
    try:
        await patient.signaling.connect(urls[0])
        patient.start()
        await doctor.signaling.connect(urls[1])
        doctor.start()
        started = time.perf_counter()
        await doctor.offer(to="patient")
        async with asyncio.timeout(CALL_TIMEOUT):
            await asyncio.gather(
                patient.connected.wait(),
                doctor.connected.wait(),
                patient.received.got_frames.wait(),
                doctor.received.got_frames.wait(),
            )
        connected = max(patient.connected_at or 0, doctor.connected_at or 0) - started
        first_frame = (
            max(patient.received.first_frame_at or 0, doctor.received.first_frame_at or 0) - started
        )
        return connected, first_frame
    finally:
        for peer in (patient, doctor):
            await peer.close()
            await peer.signaling.close()


async def run(calls: int = 20) -> dict[str, Any]:
    use_loopback_only()
    connected: list[float] = []
    first_frame: list[float] = []
    failures = 0
    async with bench_settings() as settings, two_instances(settings) as instances:
        urls = [instance.url for instance in instances]
        await one_call(settings, urls)  # warm up: codecs, imports, connection pools
        for _ in range(calls):
            try:
                to_connected, to_frame = await one_call(settings, urls)
            except TimeoutError:
                failures += 1
                continue
            connected.append(to_connected)
            first_frame.append(to_frame)
    result = {
        "parameters": {"calls": calls, "instances": 2, "ice": "host candidates on loopback"},
        "offer_to_connected": summary_ms(connected),
        "offer_to_first_frame": summary_ms(first_frame),
        "failures": failures,
    }
    path = write_result("call-setup", result)
    print(f"call setup: {calls} calls, aiortc peers on two instances (loopback)")
    print(f"{'':24}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for label, key in (
        ("offer → connected", "offer_to_connected"),
        ("offer → first frame", "offer_to_first_frame"),
    ):
        s = result[key]
        print(f"{label:24}{s['p50_ms']:9.1f}{s['p95_ms']:9.1f}{s['max_ms']:9.1f}")
    print(f"failures: {failures}; wrote {path}")
    return result
