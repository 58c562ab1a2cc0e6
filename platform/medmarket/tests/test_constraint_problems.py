"""A constraint PostgreSQL enforces, broken by a request, is a 409 or 422 naming the field:
one mechanism (errors.as_problem) for every route, proved on real violations."""

from __future__ import annotations

import datetime as dt

import asyncpg
import httpx
import pytest
from litestar import Litestar

from medmarket.errors import as_problem
from medmarket.tests.support.fixtures import Account
from medmarket.tests.support.payments import new_hospital

TABLES = """
CREATE TEMP TABLE parents (id int PRIMARY KEY);
CREATE TEMP TABLE children (
    id int PRIMARY KEY,
    parent_id int REFERENCES parents (id),
    shelf text NOT NULL,
    position int NOT NULL CHECK (position > 0),
    UNIQUE (shelf, position)
);
INSERT INTO parents VALUES (1);
INSERT INTO children VALUES (1, 1, 'a', 1);
"""


@pytest.mark.parametrize(
    ("statement", "status", "field", "code"),
    [
        ("INSERT INTO children VALUES (2, 1, 'a', 1)", 409, "position", "taken"),
        ("INSERT INTO children VALUES (2, 9, 'a', 2)", 422, "parent_id", "unknown-reference"),
        ("INSERT INTO children VALUES (2, 1, NULL, 2)", 422, "shelf", "required"),
        ("INSERT INTO children VALUES (2, 1, 'a', 0)", 422, "position", "not-allowed"),
        ("DELETE FROM parents WHERE id = 1", 409, "id", "still-referenced"),
    ],
)
async def test_each_kind_of_violation_names_its_field(
    database_url: str, statement: str, status: int, field: str, code: str
) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(TABLES)
        with pytest.raises(asyncpg.IntegrityConstraintViolationError) as raised:
            await connection.execute(statement)
    finally:
        await connection.close()
    problem = as_problem(raised.value)
    assert (problem.status, problem.errors[0].field, problem.errors[0].code) == (
        status,
        field,
        code,
    )
    assert "'a'" not in problem.detail and "(1)" not in problem.detail  # no values echoed


async def test_a_second_agreement_from_the_same_moment_is_a_409(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    """It was a 500: the unique key (hospital_id, effective_from) was caught nowhere."""
    hospital = await new_hospital(app)
    path = f"/api/settlements/hospitals/{hospital}/agreement"
    moment = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    body = {"platform_rate_bp": 900, "hospital_rate_bp": 2000, "effective_from": moment}
    first = await client.post(path, json=body, headers=operator.headers)
    assert first.status_code == 201, first.text
    second = await client.post(path, json=body, headers=operator.headers)
    assert second.status_code == 409, second.text
    assert second.headers["content-type"].startswith("application/problem+json")
    assert second.json()["errors"][0]["field"] == "effective_from"
    assert str(hospital) not in second.json()["detail"]
