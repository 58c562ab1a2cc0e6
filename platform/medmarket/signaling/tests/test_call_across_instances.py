"""The issue's "done when": two app instances (separate processes), two aiortc peers, one on
each instance, set up a call through the signaling and see each other's video; the same
relay-only through coturn; and a peer whose socket dies mid-call resumes on the other
instance without losing a message."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from medmarket.signaling import messages as m
from medmarket.signaling.client import SignalingClient
from medmarket.tests.support.video_fixtures import InstancePair
from medmarket.tests.support.webrtc_peer import CallPeer, use_loopback_only
from medmarket.video.interface import IceServer

pytestmark = pytest.mark.slow
CALL_TIMEOUT = 90.0  # a loaded 2-core machine: generous, but every wait is for a condition
PATIENT_SIZE, DOCTOR_SIZE = (160, 120), (176, 144)


async def ice_servers_for(base_url: str, consultation_id: uuid.UUID, token: str) -> list[IceServer]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(
            f"/api/consultations/{consultation_id}/video/setup", json={"token": token}
        )
    assert response.status_code == 200, response.text
    return [IceServer(**server) for server in response.json()["ice_servers"]]


@asynccontextmanager
async def call(
    pair: InstancePair, *, relay_only: bool = False
) -> AsyncIterator[tuple[CallPeer, CallPeer, uuid.UUID]]:
    """A patient on instance 0 and a doctor on instance 1, connected with media flowing."""
    use_loopback_only()
    consultation = uuid.uuid4()
    patient_id, doctor_id = uuid.uuid4().hex, uuid.uuid4().hex
    patient_token = pair.token(consultation, patient_id, "patient")
    doctor_token = pair.token(consultation, doctor_id, "doctor")
    patient_ice = await ice_servers_for(pair.urls[0], consultation, patient_token)
    doctor_ice = await ice_servers_for(pair.urls[1], consultation, doctor_token)
    if not relay_only:  # host candidates on loopback are enough without coturn
        patient_ice, doctor_ice = [], []
    patient = CallPeer(
        SignalingClient(consultation, patient_token),
        ice_servers=patient_ice,
        relay_only=relay_only,
        size=PATIENT_SIZE,
    )
    doctor = CallPeer(
        SignalingClient(consultation, doctor_token),
        ice_servers=doctor_ice,
        relay_only=relay_only,
        size=DOCTOR_SIZE,
    )
    try:
        await patient.signaling.connect(pair.urls[0])
        patient.start()
        welcome = await doctor.signaling.connect(pair.urls[1])
        doctor.start()
        # The newcomer offers to whoever is already in the room.
        assert [p.id for p in welcome.participants if p.id != doctor_id] == [patient_id]
        await doctor.offer(to=patient_id)
        async with asyncio.timeout(CALL_TIMEOUT):
            await asyncio.gather(
                patient.connected.wait(),
                doctor.connected.wait(),
                patient.received.got_frames.wait(),
                doctor.received.got_frames.wait(),
            )
        yield patient, doctor, consultation
    finally:
        for peer in (patient, doctor):
            await peer.close()
            await peer.signaling.close()


async def test_peers_on_two_instances_see_each_others_video(instance_pair: InstancePair) -> None:
    async with call(instance_pair) as (patient, doctor, _):
        assert patient.received.sizes == {DOCTOR_SIZE}
        assert doctor.received.sizes == {PATIENT_SIZE}
        # Candidates travelled as their own messages, not inside the SDP.
        assert patient.remote_candidates and doctor.remote_candidates
        assert set(patient.remote_candidates) == set(doctor.sent_candidates)
        assert set(doctor.remote_candidates) == set(patient.sent_candidates)
        offers = [s for s in patient.signals if isinstance(s, m.Offer)]
        assert len(offers) == 1 and "a=candidate" not in offers[0].sdp


async def test_relay_only_call_through_coturn(instance_pair: InstancePair) -> None:
    async with call(instance_pair, relay_only=True) as (patient, doctor, _):
        assert patient.selected_pair_types() == {"relay"}
        assert doctor.selected_pair_types() == {"relay"}
        assert all(" typ relay" in c for c in patient.sent_candidates + doctor.sent_candidates)
        assert patient.received.sizes == {DOCTOR_SIZE}
        assert doctor.received.sizes == {PATIENT_SIZE}


def probes(signals: list[m.ServerMessage], prefix: str) -> list[str]:
    return [
        s.sdp_mid
        for s in signals
        if isinstance(s, m.Candidate) and s.sdp_mid and s.sdp_mid.startswith(prefix)
    ]


async def test_socket_killed_mid_call_resumes_on_the_other_instance_losing_nothing(
    instance_pair: InstancePair,
) -> None:
    async with call(instance_pair) as (patient, doctor, _):
        frames_before = patient.received.frames
        patient.signaling.kill()  # on instance 0, without a closing handshake
        welcome = patient.signaling.welcome
        assert welcome is not None
        # While the patient is away, the doctor keeps signaling ...
        for index in range(20):
            await doctor.signaling.send(
                m.Candidate(candidate="", sdp_mid=f"doctor-{index:02}", to=welcome.participant.id)
            )
        await doctor.signaling.wait_acked()
        # ... and the patient's app queues what it says (its socket is dead).
        for index in range(5):
            await patient.signaling.send(m.Candidate(candidate="", sdp_mid=f"patient-{index:02}"))
        await patient.signaling.connect(instance_pair.urls[1])  # the OTHER instance
        await patient.signaling.wait_acked()
        expected_doctor = [f"doctor-{index:02}" for index in range(20)]
        expected_patient = [f"patient-{index:02}" for index in range(5)]
        async with asyncio.timeout(CALL_TIMEOUT):
            while (
                probes(patient.signals, "doctor-") != expected_doctor
                or probes(doctor.signals, "patient-") != expected_patient
            ):
                assert len(probes(patient.signals, "doctor-")) <= 20, "duplicates"
                assert len(probes(doctor.signals, "patient-")) <= 5, "duplicates"
                await asyncio.sleep(0.05)
            # Media is peer to peer: the call itself never stopped.
            while patient.received.frames < frames_before + 10:
                await asyncio.sleep(0.05)
