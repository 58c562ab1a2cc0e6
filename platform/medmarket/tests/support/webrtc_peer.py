"""An aiortc call peer driven by the signaling client, for tests and benchmarks: it sends a
synthetic video track of its own size, offers or answers, trickles its ICE candidates as
separate ``candidate`` messages, and counts the frames it receives."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import time
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame

from medmarket.signaling import messages as m
from medmarket.signaling.client import SignalingClient
from medmarket.video.interface import IceServer


def use_loopback_only() -> None:
    """Gather host candidates on 127.0.0.1 only, so test media never touches an interface
    address (aioice leaves loopback out by default)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


class SolidTrack(VideoStreamTrack):
    """Frames of one size and colour, at the pace VideoStreamTrack keeps (30 fps)."""

    def __init__(self, width: int, height: int, shade: int) -> None:
        super().__init__()
        self.width, self.height, self.shade = width, height, shade

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        for plane in frame.planes:
            plane.update(bytes([self.shade]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base or fractions.Fraction(1, 90000)
        return frame


@dataclass
class Received:
    frames: int = 0
    sizes: set[tuple[int, int]] = field(default_factory=set)
    first_frame_at: float | None = None
    got_frames: asyncio.Event = field(default_factory=asyncio.Event)


def _rtc_servers(servers: list[IceServer]) -> list[RTCIceServer]:
    return [
        RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
        for s in servers
    ]


def split_candidates(sdp: str) -> tuple[str, list[tuple[str, str | None, int]]]:
    """The SDP without its candidate lines, and those candidates as (line, mid, m-line)."""
    kept, candidates = [], []
    mid: str | None = None
    mline = -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            mline += 1
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:") :]
        if line.startswith("a=candidate:"):
            candidates.append((line[2:], mid, mline))
            continue
        if line.startswith("a=end-of-candidates"):
            continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n", candidates


class CallPeer:
    def __init__(
        self,
        signaling: SignalingClient,
        *,
        ice_servers: list[IceServer] | None = None,
        relay_only: bool = False,
        size: tuple[int, int] = (160, 120),
        shade: int = 90,
    ) -> None:
        self.signaling = signaling
        self.pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=_rtc_servers(ice_servers or []),
                iceTransportPolicy=(
                    RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL
                ),
            )
        )
        self.pc.addTrack(SolidTrack(size[0], size[1], shade))
        self.received = Received()
        self.connected = asyncio.Event()
        self.failed = asyncio.Event()
        self.connected_at: float | None = None
        self.sent_candidates: list[str] = []
        self.remote_candidates: list[str] = []
        self.signals: list[m.ServerMessage] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._remote: str | None = None

        @self.pc.on("track")
        def on_track(track: Any) -> None:
            self._tasks.append(asyncio.create_task(self._consume(track)))

        @self.pc.on("connectionstatechange")
        async def on_state() -> None:
            if self.pc.connectionState == "connected" and not self.connected.is_set():
                self.connected_at = time.perf_counter()
                self.connected.set()
            elif self.pc.connectionState == "failed":
                self.failed.set()

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._handle_signals()))

    async def offer(self, to: str) -> None:
        self._remote = to
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self._send_description(m.Offer, to)

    async def _send_description(self, kind: type[m.Offer] | type[m.Answer], to: str) -> None:
        sdp, candidates = split_candidates(self.pc.localDescription.sdp)
        await self.signaling.send(kind(sdp=sdp, to=to))
        for line, mid, mline in candidates:
            self.sent_candidates.append(line)
            await self.signaling.send(
                m.Candidate(candidate=line, sdp_mid=mid, sdp_mline_index=mline, to=to)
            )
        await self.signaling.send(m.Candidate(candidate="", sdp_mline_index=0, to=to))

    async def _handle_signals(self) -> None:
        while True:
            message = await self.signaling.inbox.get()
            self.signals.append(message)
            if isinstance(message, m.Offer):
                self._remote = message.sender
                await self.pc.setRemoteDescription(RTCSessionDescription(message.sdp, "offer"))
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                assert message.sender is not None
                await self._send_description(m.Answer, message.sender)
            elif isinstance(message, m.Answer):
                await self.pc.setRemoteDescription(RTCSessionDescription(message.sdp, "answer"))
            elif isinstance(message, m.Candidate):
                await self._add_candidate(message)

    async def _add_candidate(self, message: m.Candidate) -> None:
        if not message.candidate:
            await self.pc.addIceCandidate(None)
            return
        self.remote_candidates.append(message.candidate)
        candidate = candidate_from_sdp(message.candidate[len("candidate:") :])
        candidate.sdpMid = message.sdp_mid
        candidate.sdpMLineIndex = message.sdp_mline_index
        await self.pc.addIceCandidate(candidate)

    async def _consume(self, track: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                if self.received.first_frame_at is None:
                    self.received.first_frame_at = time.perf_counter()
                self.received.frames += 1
                self.received.sizes.add((frame.width, frame.height))
                if self.received.frames >= 5:
                    self.received.got_frames.set()

    def selected_pair_types(self) -> set[str]:
        """Candidate types ("host", "relay", ...) of the nominated pairs, both ends."""
        types = set()
        for transceiver in self.pc.getTransceivers():
            connection = transceiver.receiver.transport.transport._connection
            for pair in connection._nominated.values():
                types.update({pair.local_candidate.type, pair.remote_candidate.type})
        return types

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.pc.close()
