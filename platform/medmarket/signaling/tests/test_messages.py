"""The wire format: tagged unions on ``type``, strict on input."""

from __future__ import annotations

import msgspec
import pytest

from medmarket.signaling import messages as m


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"type":"offer","sdp":"v=0"}', m.Offer(sdp="v=0")),
        ('{"type":"answer","sdp":"v=0","to":"doc-1"}', m.Answer(sdp="v=0", to="doc-1")),
        (
            '{"type":"candidate","candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host",'
            '"sdp_mid":"0","sdp_mline_index":0,"ref":"r1"}',
            m.Candidate(
                candidate="candidate:1 1 udp 1 1.2.3.4 5 typ host",
                sdp_mid="0",
                sdp_mline_index=0,
                ref="r1",
            ),
        ),
        ('{"type":"candidate","candidate":""}', m.Candidate(candidate="")),
        ('{"type":"bye","reason":"done"}', m.Bye(reason="done")),
    ],
)
def test_client_messages_decode(raw: str, expected: m.ClientMessage) -> None:
    assert m.client_decoder.decode(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        '{"type":"welcome","consultation_id":"x"}',  # server-only kinds are not accepted
        '{"type":"presence"}',
        '{"sdp":"v=0"}',
        '{"type":"offer","sdp":""}',
        '{"type":"offer","sdp":"v=0","extra":1}',
        '{"type":"candidate","candidate":"not a candidate"}',
        '{"type":"candidate","candidate":"","sdp_mline_index":-1}',
        '{"type":"bye","to":"../../etc"}',
        "[]",
    ],
)
def test_bad_client_messages_are_refused(raw: str) -> None:
    with pytest.raises(msgspec.DecodeError):
        m.client_decoder.decode(raw)


def test_relayed_messages_name_their_sender_as_from() -> None:
    relayed = m.Offer(sdp="v=0", id="1-0", sender="p1", sender_role="patient")
    encoded = msgspec.json.decode(m.encoder.encode(relayed))
    assert encoded == {
        "type": "offer",
        "sdp": "v=0",
        "id": "1-0",
        "from": "p1",
        "from_role": "patient",
    }
    assert m.server_decoder.decode(m.encoder.encode(relayed)) == relayed
