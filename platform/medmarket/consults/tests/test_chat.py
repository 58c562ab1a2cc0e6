"""Chat: stored first, then relayed through the room; nothing said is lost when a connection
drops, a resent message is stored once, and the outbox relays what the room missed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from litestar import Litestar

from medmarket.consults.room import RoomAnnouncer, Staged
from medmarket.consults.tests.helpers import Visit, actions, booked_visit, call, ok
from medmarket.signaling import messages as m
from medmarket.signaling.client import SignalingClient
from medmarket.tests.support.payments import deliver_outbox, serving
from medmarket.tests.support.seed import move_visit


async def say(app: Litestar, visit: Visit, who: object, body: str, **extra: str) -> dict[str, Any]:
    message: dict[str, Any] = await ok(
        app, "POST", visit.path + "/messages", who, {"body": body, **extra}
    )
    return message


async def room_of(app: Litestar, visit: Visit, who: object) -> SignalingClient:
    token = (await ok(app, "POST", visit.path + "/enter", who))["room"]["token"]
    return SignalingClient(visit.consultation_id, token)


@pytest.mark.slow
async def test_nothing_said_is_lost_when_a_connection_drops(app: Litestar) -> None:
    visit = await booked_visit(app)
    patient = await room_of(app, visit, visit.patient)
    doctor = await room_of(app, visit, visit.doctor)
    async with serving(app) as url:
        await patient.connect(url)
        await doctor.connect(url)
        first = await say(app, visit, visit.doctor, "请把血压记录拍照发给我")
        relayed = await patient.receive_kind(m.Chat)
        assert (relayed.message_id, relayed.seq, relayed.body) == (
            first["id"],
            1,
            "请把血压记录拍照发给我",
        )
        assert (relayed.sender, relayed.sender_role) == (visit.doctor.account.id, "doctor")

        patient.kill()  # the phone loses its network mid-call
        said = [await say(app, visit, visit.doctor, f"第{n}条") for n in (2, 3)]
        said.append(await say(app, visit, visit.patient, "我回来了"))  # over HTTP meanwhile
        # Reconnecting resumes the room from the last id seen: the missed chat arrives, in order.
        await patient.connect(url)
        resumed = [await patient.receive_kind(m.Chat) for _ in range(2)]
        assert [c.seq for c in resumed] == [2, 3]
        # And the history has everything, the patient's own message too.
        history = await ok(app, "GET", visit.path + "/messages", visit.patient, params={"after": 1})
        assert [(x["seq"], x["id"]) for x in history["messages"]] == [
            (2, said[0]["id"]),
            (3, said[1]["id"]),
            (4, said[2]["id"]),
        ]
        assert history["next_after"] is None
        doctor_sees = await doctor.receive_kind(m.Chat)
        assert doctor_sees.body == "我回来了" and doctor_sees.sender_role == "patient"
        await patient.close()
        await doctor.close()


@pytest.mark.slow
async def test_chat_cannot_bypass_the_record_on_the_socket(app: Litestar) -> None:
    visit = await booked_visit(app)
    patient = await room_of(app, visit, visit.patient)
    async with serving(app) as url:
        await patient.connect(url)
        await patient.send_raw(
            '{"type": "chat", "message_id": "x", "seq": 1, "body": "hi",'
            ' "sent_at": "2026-01-01T00:00:00Z"}'
        )
        error = await patient.receive_kind(m.Error)
        assert error.code == "malformed"
        await patient.close()
    history = await ok(app, "GET", visit.path + "/messages", visit.patient)
    assert history["messages"] == []


async def test_a_resent_message_is_stored_once(app: Litestar) -> None:
    visit = await booked_visit(app)
    first = await say(app, visit, visit.patient, "头晕", client_ref="m-1")
    again = await say(app, visit, visit.patient, "头晕", client_ref="m-1")
    assert again == first
    other = await say(app, visit, visit.doctor, "多久了？", client_ref="m-1")  # another author
    assert other["seq"] == 2
    empty = await call(app, "POST", visit.path + "/messages", visit.patient, {"body": "   "})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body"
    bad_ref = await call(
        app, "POST", visit.path + "/messages", visit.patient, {"body": "x", "client_ref": "a b"}
    )
    assert bad_ref.status_code == 422
    trail = await actions(app, visit.consultation_id)
    assert trail.count("consultation.message_posted") == 2


async def test_chat_is_open_while_the_room_is_and_readable_after(app: Litestar) -> None:
    visit = await booked_visit(app, starts_in=dt.timedelta(hours=1))
    closed = await call(app, "POST", visit.path + "/messages", visit.patient, {"body": "早"})
    assert closed.status_code == 409
    await move_visit(app, visit.booking_id, dt.timedelta(minutes=10))
    await say(app, visit, visit.doctor, "我可能晚五分钟")  # the waiting room is open
    await move_visit(app, visit.booking_id, -dt.timedelta(minutes=5))
    await ok(app, "POST", visit.path + "/enter", visit.patient)
    await ok(app, "POST", visit.path + "/admit", visit.doctor)
    await ok(app, "POST", visit.path + "/end", visit.doctor, {"outcome": "completed"})
    after_end = await call(app, "POST", visit.path + "/messages", visit.patient, {"body": "谢谢"})
    assert after_end.status_code == 409
    history = await ok(app, "GET", visit.path + "/messages", visit.patient)
    assert [x["body"] for x in history["messages"]] == ["我可能晚五分钟"]


async def test_pages_of_history(app: Litestar) -> None:
    visit = await booked_visit(app)
    for n in range(5):
        await say(app, visit, visit.patient, f"{n}")
    page = await ok(app, "GET", visit.path + "/messages", visit.doctor, params={"limit": 2})
    assert [x["seq"] for x in page["messages"]] == [1, 2] and page["next_after"] == 2
    rest = await ok(
        app, "GET", visit.path + "/messages", visit.doctor, params={"after": 4, "limit": 2}
    )
    assert [x["seq"] for x in rest["messages"]] == [5] and rest["next_after"] is None


@pytest.mark.slow
async def test_the_outbox_relays_what_the_room_missed_and_only_once(
    app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    visit = await booked_visit(app)
    patient = await room_of(app, visit, visit.patient)
    async with serving(app) as url:
        await patient.connect(url)
        # This instance dies between commit and publish: only the outbox copy is left.
        sent: list[Staged] = []

        async def lost(self: RoomAnnouncer, *staged: Staged) -> None:
            sent.extend(staged)

        with monkeypatch.context() as patch:
            patch.setattr(RoomAnnouncer, "send", lost)
            message = await say(app, visit, visit.doctor, "药按时吃")
        assert len(sent) == 1
        with pytest.raises(TimeoutError):
            await patient.receive_kind(m.Chat, timeout=0.5)
        await app.state.services.db.execute(
            "UPDATE outbox SET available_at = now() WHERE topic = 'consultation.relay' "
            "AND payload->>'consultation_id' = $1",
            visit.consultation_id,
        )
        await deliver_outbox(app)
        relayed = await patient.receive_kind(m.Chat)
        assert relayed.message_id == message["id"]
        # The direct publish arriving late after all is dropped by the room: relayed once.
        await RoomAnnouncer(app.state.signaling.store).send(*sent)
        await say(app, visit, visit.doctor, "下周复查")
        following = await patient.receive_kind(m.Chat)
        assert following.seq == 2
        await patient.close()
