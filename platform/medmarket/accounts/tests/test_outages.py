"""Sign-in, sign-up and password resets while Redis (their throttle's counters) is down:
a 503 problem the client may retry, never a 500."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar

from medmarket.app import create_app
from medmarket.tests.support.fixtures import STRONG_PASSWORD, client_for, make_settings, running
from medmarket.tests.support.pages import HTML, post_form


def closed_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def without_redis(database_url: str) -> AsyncIterator[Litestar]:
    settings = make_settings(database_url, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    async with running(create_app(settings)) as app:
        yield app


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/tokens", {"email": "someone@example.org", "password": STRONG_PASSWORD}),
        ("/api/session", {"email": "someone@example.org", "password": STRONG_PASSWORD}),
        (
            "/api/accounts",
            {"email": "new@example.org", "password": STRONG_PASSWORD, "display_name": "Ann"},
        ),
        ("/api/password-resets", {"email": "someone@example.org"}),
    ],
)
async def test_an_api_call_is_a_503_with_retry_after(
    without_redis: Litestar, path: str, body: dict[str, str]
) -> None:
    async with client_for(without_redis) as http:
        response = await http.post(path, json=body)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    problem = response.json()
    assert problem["type"] == "/problems/service-unavailable"
    assert problem["retry_after"] == int(response.headers["retry-after"])
    assert "Traceback" not in response.text and "redis" not in response.text.lower()


async def test_the_sign_in_page_says_to_try_again_soon(without_redis: Litestar) -> None:
    async with client_for(without_redis) as http:
        response = await post_form(
            http, "/sign-in", {"email": "someone@example.org", "password": STRONG_PASSWORD}
        )
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert int(response.headers["retry-after"]) > 0
        assert "服务暂时不可用" in response.text
        home = await http.get("/", headers=HTML)
        assert home.status_code == 200  # what does not need Redis keeps working
