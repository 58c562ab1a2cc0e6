"""The trigram index serves search as typed: both the substring query and the typo query
can be answered from ``drugs_search_trgm`` (EXPLAIN shows it). Which one the planner picks
for the substring query depends on the table's size (on the seed catalog a sequential scan
is cheaper; search.py's docstring gives both); the typo query is always told to use it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar

from medmarket.drugs.search import (
    _CLOSE_SETTINGS,
    CLOSE,
    FUZZY_THRESHOLD,
    MATCHES,
    close_arguments,
    match_arguments,
)


def scans(plan: Any) -> list[tuple[str, str | None]]:
    """(node type, index name) of every scan in an EXPLAIN (FORMAT JSON) plan."""
    found = []

    def walk(node: dict[str, Any]) -> None:
        if "Scan" in node["Node Type"]:
            found.append((node["Node Type"], node.get("Index Name")))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


async def explain(connection: Any, query: str, arguments: tuple[Any, ...]) -> Any:
    raw = await connection.fetchval("EXPLAIN (FORMAT JSON) " + query, *arguments)
    return json.loads(raw) if isinstance(raw, str) else raw


@pytest.mark.parametrize("typed", ["amlodipine", "阿莫西", "aldp", "c08ca"])
async def test_the_substring_query_can_be_answered_from_the_trigram_index(
    app: Litestar, typed: str
) -> None:
    async with app.state.services.db.transaction() as connection:
        await connection.execute("SET LOCAL enable_seqscan = off")
        arguments = match_arguments(typed, limit=20, include_retired=False)
        plan = await explain(connection, MATCHES, arguments)
    assert ("Bitmap Index Scan", "drugs_search_trgm") in scans(plan)


async def test_the_typo_query_uses_the_trigram_index(app: Litestar) -> None:
    async with app.state.services.db.transaction() as connection:
        await connection.execute(_CLOSE_SETTINGS, str(FUZZY_THRESHOLD))
        arguments = close_arguments("amoxcilin", limit=20, include_retired=False)
        plan = await explain(connection, CLOSE, arguments)
    assert ("Bitmap Index Scan", "drugs_search_trgm") in scans(plan)
    assert not any(node == "Seq Scan" for node, _ in scans(plan))
