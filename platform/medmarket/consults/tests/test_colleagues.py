"""Colleagues the doctor invites: approved doctors only, as many as the room holds; they join
as guests, and a removed one is shut out at once, from the API and from the call."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from litestar import Litestar

from medmarket.consults.tests.helpers import actions, booked_visit, call, notifications, ok
from medmarket.signaling import messages as m
from medmarket.signaling.client import SignalingClient, SignalingClosed
from medmarket.signaling.rooms import room_keys
from medmarket.tests.support.payments import serving
from medmarket.tests.support.seed import approved_doctor


async def test_only_the_doctor_invites_approved_colleagues(app: Litestar) -> None:
    visit = await booked_visit(app)
    colleague, third = await approved_doctor(app), await approved_doctor(app)
    unknown = await call(app, "PUT", f"{visit.path}/colleagues/{uuid.uuid4()}", visit.doctor)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "doctor_id"
    itself = await call(app, "PUT", f"{visit.path}/colleagues/{visit.doctor.id}", visit.doctor)
    assert itself.status_code == 422
    invited = await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    assert invited["doctor_id"] == colleague.id and invited["user_id"] == colleague.account.id
    again = await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    assert again == invited  # idempotent: still one invitation, one notice
    assert len(await notifications(app, "consultation.invited", colleague.account.id)) == 1
    by_colleague = await call(app, "PUT", f"{visit.path}/colleagues/{third.id}", colleague)
    assert by_colleague.status_code == 403
    by_patient = await call(app, "PUT", f"{visit.path}/colleagues/{third.id}", visit.patient)
    assert by_patient.status_code == 403
    shown = await ok(app, "GET", visit.path, colleague)
    assert shown["my_role"] == "guest"
    assert [p["role"] for p in shown["participants"]] == ["patient", "doctor", "guest"]
    assert visit.consultation_id in [
        c["id"] for c in await ok(app, "GET", "/api/consultations", colleague)
    ]
    assert "consultation.colleague_invited" in await actions(app, visit.consultation_id)


async def test_the_room_holds_at_most_eight(app: Litestar) -> None:
    visit = await booked_visit(app)
    colleagues = await asyncio.gather(*(approved_doctor(app) for _ in range(7)))
    for colleague in colleagues[:6]:
        await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    seventh = await call(app, "PUT", f"{visit.path}/colleagues/{colleagues[6].id}", visit.doctor)
    assert seventh.status_code == 409 and seventh.json()["errors"][0]["code"] == "room-full"
    await ok(app, "DELETE", f"{visit.path}/colleagues/{colleagues[0].id}", visit.doctor)
    await ok(app, "PUT", f"{visit.path}/colleagues/{colleagues[6].id}", visit.doctor)


@pytest.mark.slow
async def test_an_invited_colleague_joins_and_a_removed_one_is_shut_out(app: Litestar) -> None:
    visit = await booked_visit(app)
    colleague = await approved_doctor(app, specialties=("超声科",))
    await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    consultation = uuid.UUID(visit.consultation_id)
    tokens = {
        who: (await ok(app, "POST", visit.path + "/enter", person))["room"]["token"]
        for who, person in (
            ("patient", visit.patient),
            ("doctor", visit.doctor),
            ("colleague", colleague),
        )
    }
    async with serving(app) as url:
        doctor = SignalingClient(consultation, tokens["doctor"])
        guest = SignalingClient(consultation, tokens["colleague"])
        await doctor.connect(url)
        welcome = await guest.connect(url)
        assert (welcome.participant.id, welcome.participant.role) == (
            colleague.account.id,
            "guest",
        )
        presence = await doctor.receive_kind(m.Presence)
        assert presence.event == "joined" and presence.participant.id == colleague.account.id

        await ok(app, "DELETE", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
        removed = await guest.receive_kind(m.Error)
        assert removed.code == "removed"
        for _ in range(100):
            if guest.closed_code is not None:
                break
            await asyncio.sleep(0.05)
        assert guest.closed_code == 4403
        left = await doctor.receive_kind(m.Presence)
        assert left.event == "left" and left.participant.id == colleague.account.id
        # Their old token no longer opens the room, and the API does not know them.
        with pytest.raises(SignalingClosed) as refused:
            await SignalingClient(consultation, tokens["colleague"]).connect(url)
        assert refused.value.code == 4403
        for method, suffix in (("GET", ""), ("POST", "/enter"), ("GET", "/messages")):
            response = await call(app, method, visit.path + suffix, colleague)
            assert response.status_code == 404, (method, suffix)
        # Removing again is harmless; inviting back lets them in again.
        await ok(app, "DELETE", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
        await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
        back = SignalingClient(consultation, tokens["colleague"])
        assert (await back.connect(url)).participant.role == "guest"
        await back.close()
        await doctor.close()
    history = await ok(app, "GET", f"{visit.path}/colleagues", visit.patient)
    assert [c["removed_at"] is not None for c in history] == [True, False]
    trail = await actions(app, visit.consultation_id)
    assert trail.count("consultation.colleague_removed") == 1
    assert "consultation.joined" in trail and "consultation.left" in trail


@pytest.mark.slow
async def test_a_removed_colleagues_token_sets_up_no_call(app: Litestar) -> None:
    visit = await booked_visit(app)
    colleague = await approved_doctor(app, specialties=("超声科",))
    await ok(app, "PUT", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    room = (await ok(app, "POST", visit.path + "/enter", colleague))["room"]
    body = {"token": room["token"]}
    assert (await ok(app, "POST", room["video_setup_path"], colleague, body))["provider"]
    await ok(app, "DELETE", f"{visit.path}/colleagues/{colleague.id}", visit.doctor)
    # The token is genuine and in its window, but its holder no longer takes part: the same
    # 404 as for a consultation that does not exist.
    setup = await call(app, "POST", room["video_setup_path"], colleague, body)
    missing = await call(
        app,
        "POST",
        f"/api/consultations/{uuid.uuid4()}/video/setup",
        colleague,
        {"token": room["token"]},
    )
    assert setup.status_code == 404, setup.text
    assert setup.json()["type"] == "/problems/not-found"
    assert (
        setup.json()["detail"] == (await call(app, "GET", visit.path, colleague)).json()["detail"]
    )
    assert missing.status_code == 401  # the token names another consultation
    # The room refuses them from the record, even if its own list of removals is gone.
    consultation = uuid.UUID(visit.consultation_id)
    await app.state.services.redis.delete(room_keys(consultation)[3])
    async with serving(app) as url:
        with pytest.raises(SignalingClosed) as refused:
            await SignalingClient(consultation, room["token"]).connect(url)
    assert refused.value.code == 4403
    assert refused.value.error is not None and refused.value.error.code == "removed"
