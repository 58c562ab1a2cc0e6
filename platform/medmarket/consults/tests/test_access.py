"""Who may join or read a consultation: its patient account (a young child's guardian), its
doctor and invited colleagues. Everyone else gets the 404 of a consultation that does not
exist; room tokens only open their own consultation's room, only in their window, and only
until the visit ends (however it ends), when the room closes."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import uuid

import pytest
from litestar import Litestar

from medmarket.consults.tests.helpers import booked_visit, call, ok
from medmarket.signaling import messages as m
from medmarket.signaling.client import SignalingClient, SignalingClosed
from medmarket.signaling.tokens import mint_room_token
from medmarket.tests.support.factories import platform_day
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.payments import deliver_outbox, serving
from medmarket.tests.support.seed import approved_doctor, expect, ready_patient

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


async def test_others_get_the_same_404_as_for_a_missing_consultation(app: Litestar) -> None:
    visit = await booked_visit(app)
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    message = await ok(app, "POST", visit.path + "/messages", visit.patient, {"body": "你好"})
    stranger, other_doctor = await ready_patient(app), await approved_doctor(app)
    missing = f"/api/consultations/{uuid.uuid4()}"
    attempts = [
        ("GET", ""),
        ("POST", "/enter"),
        ("GET", "/messages"),
        ("GET", "/notes"),
        ("GET", "/colleagues"),
        ("GET", f"/attachments/{uuid.uuid4()}"),
    ]
    patient_only = [("POST", "/messages", {"body": "x"})]
    doctor_only = [
        ("POST", "/admit", None),
        ("POST", "/end", {"outcome": "completed"}),
        ("PUT", "/video", {"provider": "webrtc"}),
        ("PUT", f"/colleagues/{other_doctor.id}", None),
        ("DELETE", f"/colleagues/{other_doctor.id}", None),
        ("POST", "/notes", {"base_version": 0, "diagnosis": "x"}),
    ]
    for caller, extra in ((stranger, patient_only), (other_doctor, doctor_only)):
        for method, suffix, *body in [*attempts, *extra]:
            json = body[0] if body else None
            expected = await call(app, method, missing + suffix, caller, json)
            response = await call(app, method, visit.path + suffix, caller, json)
            assert response.status_code == 404, (method, suffix, response.text)
            assert expected.status_code == 404, (method, suffix, expected.text)
            assert response.json()["detail"] == expected.json()["detail"], (method, suffix)
    async with client_for(app) as http:
        upload = await http.post(
            visit.path + "/attachments",
            headers=stranger.headers,
            files={"file": ("x.png", io.BytesIO(PNG), "image/png")},
        )
    assert upload.status_code == 404
    # Nothing of theirs leaked into the consultation.
    history = await ok(app, "GET", visit.path + "/messages", visit.doctor)
    assert [m["id"] for m in history["messages"]] == [message["id"]]
    mine = await ok(app, "GET", "/api/consultations", stranger)
    assert mine == []


async def test_a_young_childs_guardian_takes_part(app: Litestar) -> None:
    parent = await ready_patient(app)
    async with client_for(app) as http:
        child = await expect(
            http.post(
                "/api/patients/me/family",
                headers=parent.headers,
                json={
                    "real_name": "王 豆豆",
                    "relationship": "child",
                    "date_of_birth": (platform_day() - dt.timedelta(days=3 * 365)).isoformat(),
                },
            )
        )
    visit = await booked_visit(app, patient=parent, patient_id=child["id"])
    entered = await ok(app, "POST", visit.path + "/enter", parent)
    consultation = entered["consultation"]
    assert consultation["patient"] == {
        "id": child["id"],
        "name": "王 豆豆",
        "guardian_required": True,
    }
    assert consultation["my_role"] == "patient"
    assert entered["room"]["participant_id"] == parent.account.id


@pytest.mark.slow
async def test_room_tokens_open_only_their_own_room_in_their_window(app: Litestar) -> None:
    visit, other = await booked_visit(app), await booked_visit(app)
    token = (await ok(app, "POST", visit.path + "/enter", visit.patient))["room"]["token"]
    doctor_token = (await ok(app, "POST", visit.path + "/enter", visit.doctor))["room"]["token"]
    consultation = uuid.UUID(visit.consultation_id)
    now = dt.datetime.now(dt.UTC)
    expired = mint_room_token(
        app.state.settings,
        consultation,
        visit.patient.account.id,
        "patient",
        now - dt.timedelta(hours=3),
        now - dt.timedelta(hours=1),
    )
    async with serving(app) as url:
        for room, credential, code in [
            (other.consultation_id, token, "token-wrong-consultation"),
            (visit.consultation_id, expired, "token-expired"),
            (visit.consultation_id, token[:-4] + "AAAA", "token-forged"),
        ]:
            with pytest.raises(SignalingClosed) as refused:
                await SignalingClient(room, credential).connect(url)
            assert refused.value.code == 4401 and refused.value.error is not None
            assert refused.value.error.code == code
        patient = SignalingClient(consultation, token)
        doctor = SignalingClient(consultation, doctor_token)
        welcome = await patient.connect(url)
        assert (welcome.participant.id, welcome.participant.role) == (
            visit.patient.account.id,
            "patient",
        )
        joined = await doctor.connect(url)
        assert joined.participant.role == "doctor"
        assert {p.id for p in joined.participants} == {
            visit.patient.account.id,
            visit.doctor.account.id,
        }
        shown = await ok(app, "GET", visit.path, visit.doctor)
        assert [p["present"] for p in shown["participants"]] == [True, True]
        await patient.close()
        await doctor.close()
    # The video setup takes the same token, for this consultation only.
    wrong = await call(app, "POST", f"{other.path}/video/setup", visit.patient, {"token": token})
    assert wrong.status_code == 401 and wrong.json()["errors"][0]["code"] == "wrong-consultation"
    stale = await call(app, "POST", f"{visit.path}/video/setup", visit.patient, {"token": expired})
    assert stale.status_code == 401 and stale.json()["errors"][0]["code"] == "expired"
    setup = await ok(app, "POST", f"{visit.path}/video/setup", visit.patient, {"token": token})
    assert setup["provider"] == "webrtc"


async def closed_code(client: SignalingClient) -> int | None:
    for _ in range(200):
        if client.closed_code is not None:
            break
        await asyncio.sleep(0.02)
    return client.closed_code


@pytest.mark.slow
async def test_an_ended_visit_closes_its_room_and_its_tokens_open_nothing(app: Litestar) -> None:
    visit = await booked_visit(app)
    room = (await ok(app, "POST", visit.path + "/enter", visit.patient))["room"]
    doctor_token = (await ok(app, "POST", visit.path + "/enter", visit.doctor))["room"]["token"]
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    consultation = uuid.UUID(visit.consultation_id)
    body = {"token": room["token"]}
    assert (await call(app, "POST", room["video_setup_path"], visit.patient, body)).is_success
    async with serving(app) as url:
        patient = SignalingClient(consultation, room["token"])
        doctor = SignalingClient(consultation, doctor_token)
        await patient.connect(url)
        await doctor.connect(url)
        await ok(app, "POST", visit.path + "/end", visit.doctor, {"outcome": "completed"})
        # Everyone in the room hears that it is over, then the room closes their sockets.
        status = await patient.receive_kind(m.StatusChange)
        assert status.status == "completed"
        assert (await patient.receive_kind(m.Error)).code == "ended"
        assert await closed_code(patient) == 4401
        assert (await doctor.receive_kind(m.Error)).code == "ended"
        assert await closed_code(doctor) == 4401
        # The tokens are still in their window, but open the room no more.
        for token in (room["token"], doctor_token):
            with pytest.raises(SignalingClosed) as refused:
                await SignalingClient(consultation, token).connect(url)
            assert refused.value.code == 4401 and refused.value.error is not None
            assert refused.value.error.code == "ended"
    setup = await call(app, "POST", room["video_setup_path"], visit.patient, body)
    assert setup.status_code == 401, setup.text
    problem = setup.json()
    assert problem["type"] == "/problems/room-token-refused"
    assert problem["errors"][0] == {"field": "token", "code": "ended", "message": problem["detail"]}
    # Releasing what the call held still works with it.
    teardown = await call(app, "POST", room["video_teardown_path"], visit.patient, body)
    assert teardown.status_code == 204


@pytest.mark.slow
async def test_a_visit_cancelled_while_the_patient_waits_closes_the_waiting_room(
    app: Litestar,
) -> None:
    visit = await booked_visit(app, starts_in=dt.timedelta(minutes=5))
    room = (await ok(app, "POST", visit.path + "/enter", visit.patient))["room"]
    consultation = uuid.UUID(visit.consultation_id)
    async with serving(app) as url:
        patient = SignalingClient(consultation, room["token"])
        await patient.connect(url)
        await ok(
            app,
            "POST",
            f"/api/doctor/bookings/{visit.booking_id}/cancel",
            visit.doctor,
            {"reason": "急诊手术"},
        )
        # The booking's end is relayed by the outbox (what `medmarket worker` runs).
        await app.state.services.db.execute(
            "UPDATE outbox SET available_at = now() WHERE topic = 'consultation.relay' "
            "AND payload->>'consultation_id' = $1",
            visit.consultation_id,
        )
        await deliver_outbox(app)
        status = await patient.receive_kind(m.StatusChange)
        assert (status.status, status.sender_role) == ("cancelled", "doctor")
        assert (await patient.receive_kind(m.Error)).code == "ended"
        assert await closed_code(patient) == 4401
        with pytest.raises(SignalingClosed) as refused:
            await SignalingClient(consultation, room["token"]).connect(url)
        assert refused.value.error is not None and refused.value.error.code == "ended"
