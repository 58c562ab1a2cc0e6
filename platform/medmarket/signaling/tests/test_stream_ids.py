"""Stream ids from clients: what the parser takes is exactly what Redis writes and reads as
the same id; anything else (beyond 64 bits, signed, padded, other digits) is refused."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis import Redis
from redis.exceptions import ResponseError

from medmarket.signaling.rooms import MAX_ID_PART, format_stream_id, parse_stream_id

parts = st.integers(min_value=0, max_value=MAX_ID_PART)
too_big = st.integers(min_value=MAX_ID_PART + 1, max_value=10**40)
# Text made of what ids are made of, and of what Redis's lenient number parsing lets by.
id_like = st.text(alphabet="0123456789-+ \t\n\x00x$*<>()٣１", max_size=48)


@given(parts, parts)
def test_every_id_redis_can_write_is_read_back(ms: int, seq: int) -> None:
    assert parse_stream_id(format_stream_id((ms, seq))) == (ms, seq)


@given(st.one_of(st.tuples(too_big, parts), st.tuples(parts, too_big), st.tuples(too_big, too_big)))
def test_a_part_beyond_64_bits_is_refused(sid: tuple[int, int]) -> None:
    assert parse_stream_id(f"{sid[0]}-{sid[1]}") is None


@given(st.one_of(id_like, st.text(max_size=48)))
def test_only_the_form_redis_writes_is_taken(text: str) -> None:
    parsed = parse_stream_id(text)
    if parsed is not None:
        assert format_stream_id(parsed) == text  # no other spelling of an id passes
        assert all(0 <= part <= MAX_ID_PART for part in parsed)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "1-",
        "-1",
        "-1-0",
        "+1-0",
        "1-+0",
        " 1-0",
        "1-0 ",
        "1-0\n",
        "01-0",
        "1-00",
        "0x1-0",
        "1e3-0",
        "1_000-0",
        "١-٠",
        "$",
        ">",
        "+",
        "-",
        "*",
        "1-0-0",
        "18446744073709551616-0",
        "0-18446744073709551616",
        "99999999999999999999-1",
        "1" * 21 + "-0",
    ],
)
def test_what_is_not_an_id_is_refused(text: str) -> None:
    assert parse_stream_id(text) is None


@pytest.mark.parametrize(
    ("text", "sid"),
    [
        ("0-0", (0, 0)),
        ("0-1", (0, 1)),
        ("1700000000000-0", (1_700_000_000_000, 0)),
        ("18446744073709551615-18446744073709551615", (MAX_ID_PART, MAX_ID_PART)),
    ],
)
def test_ids_are_read_as_numbers(text: str, sid: tuple[int, int]) -> None:
    assert parse_stream_id(text) == sid


@pytest.fixture(scope="module")
def redis() -> Iterator[Redis]:
    client = Redis.from_url(os.environ["REDIS_URL"])
    yield client
    client.close()


@settings(deadline=None)  # a real Redis round trip per example: slow on a busy machine
@given(st.one_of(id_like, st.tuples(parts, parts).map(format_stream_id)))
def test_redis_reads_every_id_the_parser_takes_as_the_same_id(redis: Redis, text: str) -> None:
    parsed = parse_stream_id(text)
    if parsed is None or parsed == (0, 0):  # 0-0 is never an entry's id
        return
    key = f"test:ids:{{{uuid.uuid4()}}}"
    try:
        assert redis.xadd(key, {"f": "v"}, id=text) == format_stream_id(parsed).encode()
        # And it takes it as a cursor, in both the reads the hub makes.
        redis.xread({key: text}, count=1)
        redis.xrange(key, min=text, max="+", count=1)
    except ResponseError as refused:
        pytest.fail(f"Redis refused {text!r}, which the parser took: {refused}")
    finally:
        redis.delete(key)
