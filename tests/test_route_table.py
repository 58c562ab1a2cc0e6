"""The route table, as the built app has it, is the one in ``route_table.jsonl``: for every
route its path and methods, the handler, who may call it (as the access guard reads it, and
the ``opt`` it reads it from after litestar has merged the layers' options), the guards it
passes, its tags, status code, whether it is in the schema, and its OpenAPI operation id.

So a change to how routes are declared (grouped in Routers or Controllers, an option moved
from the handlers to their Router) shows whether it changed what the routes are. A change
that means to change them rewrites the file (``MEDMARKET_WRITE_ROUTE_TABLE=1``) and shows
the difference in review. litestar's own OPTIONS routes take the options of their path's
Router, but the access guard refuses them: their ``access`` is None.

Routes are grouped per resource in Routers that declare who may use them once; the last test
shows the access guard reading such a rule.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Router, get
from litestar.handlers.base import BaseRouteHandler
from litestar.routes import ASGIRoute, HTTPRoute, WebSocketRoute
from litestar.testing import AsyncTestClient

from medmarket.accounts.guards import PUBLIC, access_guard, allow, declared_access
from medmarket.app import create_app
from medmarket.errors import EXCEPTION_HANDLERS
from medmarket.openapi import answers
from medmarket.settings import Settings

TABLE = Path(__file__).with_name("route_table.jsonl")


def plain(value: Any) -> Any:
    """An ``opt`` value as JSON: sets sorted, tuples as lists."""
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in sorted(value.items())}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def qualified(function: Any) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def declared(handler: BaseRouteHandler) -> dict[str, Any]:
    return {
        "handler": handler.handler_name,
        # Who may call it, as the access guard reads it; then the options it reads it from.
        "access": plain(declared_access(handler)),
        "opt": plain(handler.opt),
        "guards": [qualified(guard) for guard in handler.resolve_guards()],
    }


def route_table(app: Litestar) -> list[dict[str, Any]]:
    schema_paths = app.openapi_schema.paths or {}
    rows: list[dict[str, Any]] = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                item = schema_paths.get(route.path_format)
                methods = sorted(handler.http_methods)
                operation_ids = sorted(
                    {
                        operation.operation_id
                        for method in methods
                        if item is not None
                        and (operation := getattr(item, method.lower(), None)) is not None
                        and operation.operation_id
                    }
                )
                rows.append(
                    {
                        "path": route.path,
                        "methods": methods,
                        **declared(handler),
                        "tags": handler.resolve_tags(),
                        "status_code": handler.status_code,
                        "include_in_schema": handler.resolve_include_in_schema(),
                        "operation_id": operation_ids,
                    }
                )
        elif isinstance(route, WebSocketRoute):
            rows.append({"path": route.path, "websocket": True, **declared(route.route_handler)})
        elif isinstance(route, ASGIRoute):
            rows.append({"path": route.path, "asgi": True, **declared(route.route_handler)})
    return sorted(rows, key=lambda row: (row["path"], row.get("methods", [])))


def as_lines(rows: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(row, ensure_ascii=False) for row in rows]


@pytest.fixture(scope="module")
def built_app(settings: Settings) -> Litestar:
    # Built, never started: the table is what create_app assembles.
    return create_app(settings)


def test_the_route_table_is_the_recorded_one(built_app: Litestar) -> None:
    lines = as_lines(route_table(built_app))
    if os.environ.get("MEDMARKET_WRITE_ROUTE_TABLE") == "1":
        TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    recorded = TABLE.read_text(encoding="utf-8").splitlines()
    difference = difflib.unified_diff(
        recorded, lines, TABLE.name, "the built app", n=0, lineterm=""
    )
    assert lines == recorded, "\n".join(difference)


def test_the_table_covers_every_kind_of_route(built_app: Litestar) -> None:
    rows = route_table(built_app)
    assert any(row.get("websocket") for row in rows)
    assert any(row.get("include_in_schema") is False for row in rows)
    assert all(row["operation_id"] for row in rows if row.get("include_in_schema"))


async def test_a_routers_access_rule_covers_its_handlers_and_a_handlers_own_wins() -> None:
    # litestar merges the options of every layer into the handler's, key by key, the
    # handler's own last: what the access guard and the OpenAPI document read.
    @get("/")
    async def listing() -> str:
        return "operators only"

    @get("/open", opt=PUBLIC)
    async def open_to_all() -> str:
        return "anyone"

    @get("/maybe", opt=answers(404))
    async def maybe() -> str:
        return "operators only"

    things = Router(
        path="/things", opt=allow("operator"), route_handlers=[listing, open_to_all, maybe]
    )
    bare = Litestar([things], guards=[access_guard], exception_handlers=EXCEPTION_HANDLERS)
    options = {
        route.path: handler.opt
        for route in bare.routes
        if isinstance(route, HTTPRoute) and route.path.startswith("/things")
        for handler in route.route_handlers
        if "GET" in handler.http_methods
    }
    assert options == {
        "/things": allow("operator"),
        "/things/open": PUBLIC,
        "/things/maybe": {**allow("operator"), **answers(404)},
    }
    async with AsyncTestClient(app=bare) as http:
        assert (await http.get("/things")).status_code == 401
        assert (await http.get("/things/maybe")).status_code == 401
        assert (await http.get("/things/open")).text == "anyone"
