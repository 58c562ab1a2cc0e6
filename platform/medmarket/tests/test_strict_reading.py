"""Requests are read as the OpenAPI document describes them: what only msgspec's lax mode
would take (the word "null" for an absent parameter, a number for a time, 0 for false in a
JSON body) is refused with its field named."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from litestar.typing import FieldDefinition

from medmarket.errors import PROBLEM_JSON
from medmarket.strict_reading import body_refusal, parameter_refusal
from medmarket.tests.support.fixtures import Account


def _field(annotation: Any) -> FieldDefinition:
    return FieldDefinition.from_annotation(annotation)


@pytest.mark.parametrize(
    ("annotation", "text", "refused"),
    [
        (uuid.UUID | None, "null", True),
        (int | None, "null", True),
        (dt.datetime | None, "null", True),
        (dt.datetime | None, "0.5", True),
        (dt.datetime, "1700000000", True),
        (dt.datetime | None, "2026-03-01T08:00:00+08:00", False),
        (dt.date | None, "2026-03-01", False),
        (str | None, "null", False),  # text is text
        (int, "5", False),  # integers travel as text in a query
        (uuid.UUID | None, "not-a-uuid", False),  # litestar refuses it in its own words
        (dt.date | None, "0001-01-01", True),  # no day before it to shift into
        (dt.datetime | None, "9999-12-31T23:00:00Z", True),
        (dt.date, "0002-01-01", False),
    ],
)
def test_what_only_lax_mode_takes_is_refused(annotation: Any, text: str, refused: bool) -> None:
    assert (parameter_refusal(_field(annotation), text) is not None) is refused


def test_a_json_body_is_read_strictly() -> None:
    from medmarket.scheduling.schemas import OfferingIn

    good = b'{"price_fen": 100, "slot_minutes": 30, "active": false}'
    assert body_refusal(OfferingIn, good) is None
    refused = body_refusal(OfferingIn, b'{"price_fen": 100, "slot_minutes": 30, "active": 0}')
    assert refused is not None
    assert refused.field == "active"
    refused = body_refusal(OfferingIn, b'{"price_fen": "100", "slot_minutes": 30}')
    assert refused is not None
    assert refused.field == "price_fen"
    # Unreadable, or wrong even for lax mode: litestar's own answer stands.
    assert body_refusal(OfferingIn, b"{") is None
    assert body_refusal(OfferingIn, b'{"price_fen": "cheap", "slot_minutes": 30}') is None


async def _problem(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    return [error["field"] for error in response.json()["errors"]]


async def test_null_for_an_absent_parameter_is_refused_by_name(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    doctor: Account = await sign_up("doctor")
    listing = await client.get(
        "/api/consultations", params={"booking_id": "null"}, headers=doctor.headers
    )
    assert await _problem(listing) == ["booking_id"]
    several = await client.get("/api/doctors", params={"price_min": "null", "date": "null"})
    assert sorted(await _problem(several)) == ["date", "price_min"]
    absent = await client.get("/api/consultations", headers=doctor.headers)
    assert absent.status_code == 200
    searched = await client.get("/api/doctors", params={"q": "null"})
    assert searched.status_code == 200


async def test_a_number_for_a_time_is_refused(client: httpx.AsyncClient) -> None:
    reviews = await client.get(f"/api/doctors/{uuid.uuid4()}/reviews", params={"before": "0.5"})
    assert await _problem(reviews) == ["before"]
    iso = await client.get(
        f"/api/doctors/{uuid.uuid4()}/reviews", params={"before": "2026-03-01T00:00:00Z"}
    )
    assert iso.status_code == 200


async def test_a_day_at_the_end_of_the_calendar_is_refused_by_name(
    client: httpx.AsyncClient,
) -> None:
    search = await client.get("/api/doctors", params={"date": "0001-01-01"})
    assert await _problem(search) == ["date"]
    slots = await client.get(
        f"/api/doctors/{uuid.uuid4()}/slots", params={"from": "9999-12-31T00:00:00Z"}
    )
    assert await _problem(slots) == ["from"]


async def test_a_json_body_only_lax_mode_reads_is_refused(
    client: httpx.AsyncClient, sign_up: Any
) -> None:
    doctor: Account = await sign_up("doctor")
    response = await client.put(
        "/api/doctor/offerings/video",
        headers=doctor.headers,
        json={"price_fen": 100, "slot_minutes": 30, "active": 0},
    )
    assert await _problem(response) == ["active"]
