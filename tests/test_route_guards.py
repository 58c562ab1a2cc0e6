"""Every route refuses an anonymous caller or a caller of the wrong role: access is denied
by default, and this test walks the app's whole route table, so a new route is covered the
moment it is added."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.routes import HTTPRoute

from medmarket.accounts.guards import access_guard
from medmarket.accounts.schemas import ALL_ROLES
from medmarket.errors import EXCEPTION_HANDLERS
from medmarket.tests.support.fixtures import Account, SignUp, asgi_transport, client_for

_PARAM = re.compile(r"\{([^:}]+):?([^}]*)\}")


def concrete(path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        kind = match[2]
        if kind == "uuid":
            return str(uuid.uuid4())
        if kind == "int":
            return "1"
        return "x"

    return _PARAM.sub(fill, path)


def guarded_endpoints(app: Litestar) -> list[tuple[str, str, Any]]:
    endpoints: list[tuple[str, str, Any]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                endpoints.append((method, route.path, handler.opt.get("access")))
    return endpoints


def test_every_route_declares_who_may_use_it(app: Litestar) -> None:
    undeclared = [(m, p) for m, p, access in guarded_endpoints(app) if access is None]
    assert undeclared == []


async def test_anonymous_callers_are_refused_everywhere_but_public_routes(app: Litestar) -> None:
    checked = 0
    async with client_for(app) as http:
        for method, path, access in guarded_endpoints(app):
            if access == "public":
                continue
            response = await http.request(method, concrete(path))
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["type"] == "/problems/not-authenticated"
            checked += 1
    assert checked > 0


async def test_wrong_roles_are_refused_everywhere(app: Litestar, sign_up: SignUp) -> None:
    accounts: dict[str, Account] = {role: await sign_up(role) for role in sorted(ALL_ROLES)}
    checked = 0
    async with client_for(app) as http:
        for method, path, access in guarded_endpoints(app):
            if access == "public":
                continue
            for role in ALL_ROLES - access:
                response = await http.request(
                    method, concrete(path), headers=accounts[role].headers
                )
                assert response.status_code == 403, (role, method, path, response.text)
                checked += 1
    assert checked > 0


async def test_a_route_without_an_access_rule_refuses_everyone() -> None:
    @get("/undeclared")
    async def undeclared() -> str:
        return "should never be seen"

    bare = Litestar([undeclared], guards=[access_guard], exception_handlers=EXCEPTION_HANDLERS)
    async with httpx.AsyncClient(transport=asgi_transport(bare), base_url="http://t") as http:
        response = await http.get("/undeclared")
    assert response.status_code == 403
    assert "should never be seen" not in response.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/schema/openapi.json"])
async def test_public_routes_answer_anonymously(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200


async def test_litestars_own_options_answers_are_refused_everywhere(app: Litestar) -> None:
    # litestar answers OPTIONS on every path itself, with an Allow header that may leave out
    # methods (litestar#4169); like any route that declares no access, it refuses everyone.
    paths = sorted({route.path for route in app.routes if isinstance(route, HTTPRoute)})
    async with client_for(app) as http:
        for path in paths:
            response = await http.options(concrete(path))
            assert response.status_code == 403, (path, response.text)
    assert "/api/patients/me" in paths
