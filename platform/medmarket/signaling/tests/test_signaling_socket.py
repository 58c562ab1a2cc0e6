"""The signaling WebSocket's rules, against two real app instances: who is refused, what is
refused while the connection survives, presence, addressing, room size, replacement and
removal, and exactly-once relaying of resent messages."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import uuid

import pytest
from websockets.asyncio.client import connect

from medmarket.settings import Settings
from medmarket.signaling import messages as m
from medmarket.signaling.client import SignalingClient, SignalingClosed
from medmarket.signaling.rooms import RoomStore
from medmarket.signaling.tokens import mint_room_token
from medmarket.tests.support.video_fixtures import InstancePair

pytestmark = pytest.mark.slow


def pid() -> str:
    return uuid.uuid4().hex[:12]


async def refused(pair: InstancePair, consultation: uuid.UUID, token: str) -> SignalingClosed:
    client = SignalingClient(consultation, token)
    with pytest.raises(SignalingClosed) as caught:
        await client.connect(pair.urls[0])
    return caught.value


def minted(
    settings: Settings, consultation: uuid.UUID, start: dt.timedelta, end: dt.timedelta
) -> str:
    now = dt.datetime.now(dt.UTC)
    return mint_room_token(settings, consultation, pid(), "patient", now + start, now + end)


async def test_expired_token_is_refused(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    token = minted(
        instance_pair.settings, consultation, -dt.timedelta(hours=2), -dt.timedelta(hours=1)
    )
    closed = await refused(instance_pair, consultation, token)
    assert closed.code == 4401 and closed.error is not None
    assert closed.error.code == "token-expired"


async def test_token_before_its_window_is_refused(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    token = minted(
        instance_pair.settings, consultation, dt.timedelta(hours=1), dt.timedelta(hours=2)
    )
    closed = await refused(instance_pair, consultation, token)
    assert closed.code == 4401 and closed.error and closed.error.code == "token-not-yet-valid"


async def test_token_for_another_consultation_is_refused(instance_pair: InstancePair) -> None:
    token = instance_pair.token(uuid.uuid4(), pid())
    closed = await refused(instance_pair, uuid.uuid4(), token)
    assert closed.code == 4401 and closed.error and closed.error.code == "token-wrong-consultation"


async def test_forged_token_is_refused(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    other_key = msgspec_replace_secret(instance_pair.settings)
    now = dt.datetime.now(dt.UTC)
    forged = mint_room_token(
        other_key, consultation, pid(), "doctor", now, now + dt.timedelta(hours=1)
    )
    closed = await refused(instance_pair, consultation, forged)
    assert closed.code == 4401 and closed.error and closed.error.code == "token-forged"


@pytest.mark.parametrize("token", ["", "nonsense", "a.b.c", "!!!.???", "x" * 5000])
async def test_malformed_or_missing_token_is_refused(
    instance_pair: InstancePair, token: str
) -> None:
    closed = await refused(instance_pair, uuid.uuid4(), token)
    assert closed.code == 4401 and closed.error and closed.error.code.startswith("token-")


def msgspec_replace_secret(settings: Settings) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, secret_key=secrets.token_urlsafe(48))


async def test_bad_messages_are_refused_and_the_connection_survives(
    instance_pair: InstancePair,
) -> None:
    consultation = uuid.uuid4()
    alice, bob = pid(), pid()
    a = SignalingClient(consultation, instance_pair.token(consultation, alice))
    b = SignalingClient(consultation, instance_pair.token(consultation, bob, "doctor"))
    await a.connect(instance_pair.urls[0])
    await b.connect(instance_pair.urls[1])
    bad: list[tuple[str | bytes, str]] = [
        ("not json", "malformed"),
        ('{"type": "teleport"}', "malformed"),
        ('{"type": "offer"}', "malformed"),  # no sdp
        ('{"type": "offer", "sdp": "v=0", "colour": "red"}', "malformed"),
        ('{"type": "candidate", "candidate": "rm -rf /"}', "malformed"),
        ('{"type": "offer", "sdp": "v=0", "to": "no spaces allowed"}', "malformed"),
        ('{"type": "offer", "sdp": "' + "x" * 70_000 + '"}', "too-large"),
        (b"\x00\x01binary", "malformed"),
    ]
    for raw, code in bad:
        await a.send_raw(raw)
        error = await a.receive_kind(m.Error)
        assert error.code == code, (raw[:40], error)
    # Still connected, and a good message still goes through.
    await a.send(m.Offer(sdp="v=0\r\n", to=bob))
    await a.wait_acked()
    offer = await b.receive_kind(m.Offer)
    assert offer.sdp == "v=0\r\n" and offer.sender == alice and offer.sender_role == "patient"
    assert a.closed_code is None
    await a.close()
    await b.close()


async def test_a_message_beyond_the_frame_limit_closes_the_connection(
    instance_pair: InstancePair,
) -> None:
    consultation = uuid.uuid4()
    a = SignalingClient(consultation, instance_pair.token(consultation, pid()))
    await a.connect(instance_pair.urls[0])
    # Just under the server's frame limit: read, answered "too-large", still connected.
    below = '{"type": "offer", "sdp": "' + "x" * (m.MAX_FRAME_BYTES - 64) + '"}'
    assert m.MAX_MESSAGE_BYTES < len(below) <= m.MAX_FRAME_BYTES
    await a.send_raw(below)
    assert (await a.receive_kind(m.Error)).code == "too-large"
    assert a.closed_code is None
    # Beyond it: not buffered at all, the connection is closed as "message too big".
    await a.send_raw('{"type": "offer", "sdp": "' + "x" * m.MAX_FRAME_BYTES + '"}')
    for _ in range(200):
        if a.closed_code is not None:
            break
        await asyncio.sleep(0.02)
    assert a.closed_code == 1009
    await a.close()


async def test_sender_fields_are_set_by_the_server(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    alice, bob = pid(), pid()
    a = SignalingClient(consultation, instance_pair.token(consultation, alice))
    b = SignalingClient(consultation, instance_pair.token(consultation, bob, "doctor"))
    await a.connect(instance_pair.urls[0])
    await b.connect(instance_pair.urls[1])
    await a.send_raw(
        '{"type": "answer", "sdp": "v=0", "from": "'
        + bob
        + '", "from_role": "doctor", "id": "1-1"}'
    )
    answer = await b.receive_kind(m.Answer)
    assert (answer.sender, answer.sender_role) == (alice, "patient")
    assert answer.id != "1-1"
    await a.close()
    await b.close()


async def test_presence_across_instances(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    alice, bob = pid(), pid()
    a = SignalingClient(consultation, instance_pair.token(consultation, alice))
    welcome = await a.connect(instance_pair.urls[0])
    assert [p.id for p in welcome.participants] == [alice]
    b = SignalingClient(consultation, instance_pair.token(consultation, bob, "doctor"))
    welcome_b = await b.connect(instance_pair.urls[1])
    assert sorted(p.id for p in welcome_b.participants) == sorted([alice, bob])
    joined = await a.receive_kind(m.Presence)
    assert (joined.event, joined.participant) == ("joined", m.Participant(bob, "doctor"))
    assert sorted(p.id for p in joined.participants) == sorted([alice, bob])
    await b.close()
    left = await a.receive_kind(m.Presence)
    assert (left.event, left.participant.id, [p.id for p in left.participants]) == (
        "left",
        bob,
        [alice],
    )
    await a.close()


async def test_addressed_messages_reach_only_their_recipient(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    ids = [pid() for _ in range(3)]
    clients = [
        SignalingClient(consultation, instance_pair.token(consultation, i, "guest")) for i in ids
    ]
    for index, client in enumerate(clients):
        await client.connect(instance_pair.urls[index % 2])
    await clients[0].send(m.Offer(sdp="for-1", to=ids[1]))
    await clients[0].send(m.Offer(sdp="for-everyone"))
    await clients[0].wait_acked()
    first = await clients[1].receive_kind(m.Offer)
    second = await clients[1].receive_kind(m.Offer)
    assert [first.sdp, second.sdp] == ["for-1", "for-everyone"]
    only = await clients[2].receive_kind(m.Offer)
    assert only.sdp == "for-everyone"
    # The sender hears nothing of its own: a marker sent after its offers reaches it with
    # nothing relayed before it (the stream keeps order, so an echo would come first).
    await clients[1].send(m.Answer(sdp="marker", to=ids[0]))
    before_marker: list[m.ServerMessage] = []
    while not (isinstance(message := await clients[0].receive(), m.Answer)):
        before_marker.append(message)
    assert message.sdp == "marker"
    assert not [s for s in before_marker if isinstance(s, m.Offer)]
    for client in clients:
        await client.close()


async def test_room_holds_at_most_eight(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    clients = []
    for index in range(8):
        client = SignalingClient(consultation, instance_pair.token(consultation, pid(), "guest"))
        await client.connect(instance_pair.urls[index % 2])
        clients.append(client)
    ninth = SignalingClient(consultation, instance_pair.token(consultation, pid(), "guest"))
    with pytest.raises(SignalingClosed) as caught:
        await ninth.connect(instance_pair.urls[0])
    assert (
        caught.value.code == 4429 and caught.value.error and caught.value.error.code == "room-full"
    )
    await clients.pop().close()
    welcome = await ninth.connect(instance_pair.urls[1])
    assert len(welcome.participants) == 8
    for client in [*clients, ninth]:
        await client.close()


async def test_joining_again_replaces_the_older_connection(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    me = pid()
    token = instance_pair.token(consultation, me)
    old = SignalingClient(consultation, token)
    await old.connect(instance_pair.urls[0])
    new = SignalingClient(consultation, token)
    await new.connect(instance_pair.urls[1])
    error = await old.receive_kind(m.Error)
    assert error.code == "replaced"
    async with asyncio.timeout(30):
        while old.closed_code is None:
            await asyncio.sleep(0.02)
    assert old.closed_code == 4409
    await new.close()


async def test_removed_participant_is_closed_and_cannot_rejoin(instance_pair: InstancePair) -> None:
    from redis.asyncio import Redis

    consultation = uuid.uuid4()
    guest = pid()
    token = instance_pair.token(consultation, guest, "guest")
    client = SignalingClient(consultation, token)
    await client.connect(instance_pair.urls[0])
    redis = Redis.from_url(instance_pair.settings.redis_url)
    try:
        await RoomStore(redis, max_participants=8).remove(consultation, guest)
    finally:
        await redis.aclose()
    assert (await client.receive_kind(m.Error)).code == "removed"
    again = SignalingClient(consultation, token)
    with pytest.raises(SignalingClosed) as caught:
        await again.connect(instance_pair.urls[1])
    assert caught.value.code == 4403


async def test_a_resent_message_is_relayed_once(instance_pair: InstancePair) -> None:
    consultation = uuid.uuid4()
    alice, bob = pid(), pid()
    b = SignalingClient(consultation, instance_pair.token(consultation, bob))
    await b.connect(instance_pair.urls[1])
    a = SignalingClient(consultation, instance_pair.token(consultation, alice))
    async with connect(a.url(instance_pair.urls[0])) as raw:  # no acks awaited, no resends
        await raw.send(m.encoder.encode(a.hello()).decode())
        await raw.recv()  # welcome
        frame = m.encoder.encode(m.Offer(sdp="once", ref="r-1")).decode()
        await raw.send(frame)
        await raw.send(frame)  # e.g. resent after a reconnect that raced the ack
        answers = [m.server_decoder.decode(await raw.recv()) for _ in range(2)]
        acks = [a for a in answers if isinstance(a, m.Ack)]
        assert len(acks) == 2 and acks[0].id == acks[1].id
        await raw.send(m.encoder.encode(m.Offer(sdp="after", ref="r-2")).decode())
        offers = [await b.receive_kind(m.Offer), await b.receive_kind(m.Offer)]
    assert [o.sdp for o in offers] == ["once", "after"]
    await b.close()


async def test_a_resume_replaying_our_own_older_join_does_not_replace_us(
    instance_pair: InstancePair,
) -> None:
    consultation = uuid.uuid4()
    me, other = pid(), pid()
    client = SignalingClient(consultation, instance_pair.token(consultation, me))
    first = await client.connect(instance_pair.urls[0])
    client.kill()
    await client.connect(instance_pair.urls[1])  # a second join, announced in the stream
    # As if that socket died before we read its own announcement: resume from before it.
    client.last_id = first.last_id
    client.kill()
    await client.connect(instance_pair.urls[0])
    peer = SignalingClient(consultation, instance_pair.token(consultation, other, "doctor"))
    await peer.connect(instance_pair.urls[1])
    await peer.send(m.Offer(sdp="still here?", to=me))
    offer = await client.receive_kind(m.Offer)
    assert offer.sdp == "still here?"
    assert client.closed_code is None
    assert client.last_error is None or client.last_error.code != "replaced"
    await client.close()
    await peer.close()


async def test_an_app_stopped_right_after_it_started_stops(settings: Settings) -> None:
    """At shutdown the hub's reader may be inside its first Redis command, where redis-py can
    swallow the cancellation; the app must still stop (this hung before the hub re-cancelled)."""
    from medmarket.app import create_app
    from medmarket.tests.support.fixtures import running

    for _ in range(3):
        async with asyncio.timeout(30), running(create_app(settings)):
            pass
