"""pytest fixtures for browser tests: the app served for real by uvicorn, and Debian's
Chromium driven by Playwright.

    @pytest.mark.browser
    async def test_something(live_server: LiveServer, new_page: NewPage) -> None:
        page = await new_page(width=375)
        await page.goto(live_server.url + "/")
        await save_screenshot(page, "home")

``live_server`` is one uvicorn server per test session, in a thread of its own, on a free
port, against the session's test database. ``browser`` is one headless Chromium per session;
``new_page`` opens pages in fresh contexts (own cookies) that close after the test.
Screenshots go to ``tests/screenshots/`` (not committed).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pytest

from medmarket.app import create_app
from medmarket.settings import Settings
from medmarket.signaling.messages import MAX_FRAME_BYTES
from medmarket.tests.support.fixtures import STRONG_PASSWORD, Account, unique_email

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

CHROMIUM = os.environ.get("MEDMARKET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 860}
SCREENSHOTS = Path(__file__).resolve().parents[4] / "tests" / "screenshots"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    settings: Settings

    async def sign_up(self, role: str = "patient", **fields: Any) -> Account:
        """A new account made through the API (fast), for tests about other pages."""
        email = fields.pop("email", None) or unique_email(role)
        body = {
            "email": email,
            "password": STRONG_PASSWORD,
            "display_name": fields.pop("display_name", "测试 用户"),
            "role": role,
            **fields,
        }
        async with httpx.AsyncClient(base_url=self.url) as http:
            created = await http.post("/api/accounts", json=body)
            assert created.status_code == 202, created.text
            token = await http.post(
                "/api/tokens", json={"email": email, "password": STRONG_PASSWORD}
            )
            assert token.status_code == 201, token.text
        return Account(
            id=token.json()["user"]["id"],
            email=email,
            role=role,
            password=STRONG_PASSWORD,
            token=token.json()["token"],
        )

    async def sign_in(self, context: BrowserContext, account: Account) -> None:
        """Sign ``context`` in as ``account`` through the API (its cookies land in the
        context), so a test can start on a signed-in page."""
        response = await context.request.post(
            self.url + "/api/session",
            data={"email": account.email, "password": account.password},
        )
        assert response.status == 201, await response.text()


class _ServerThread(threading.Thread):
    def __init__(self, settings: Settings, port: int) -> None:
        super().__init__(name="medmarket-live-server", daemon=True)
        import uvicorn

        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            lifespan="on",
            log_level="warning",
            access_log=False,
            ws_max_size=MAX_FRAME_BYTES,
        )
        self.server = uvicorn.Server(config)
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # reported by the fixture, which waits for start-up
            self.failure = exc

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The session's settings (its database, uploads folder, localstripe) served on a real
    port, so data a test makes with the ``app`` fixture is what the browser sees."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    served = msgspec.structs.replace(
        settings,
        base_url=url,
        # Every browser connects from 127.0.0.1, and Redis (with its per-address counters)
        # outlives test sessions: do not let earlier runs lock this one out.
        login_failures_per_address=100_000,
        signups_per_address=100_000,
        password_resets_per_address=100_000,
    )
    thread = _ServerThread(served, port)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not thread.server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            thread.stop()
            raise RuntimeError(f"the live server did not start: {thread.failure!r}")
        time.sleep(0.05)
    try:
        yield LiveServer(url=url, settings=served)
    finally:
        thread.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - once per session, before any test
        pytest.fail(f"no Chromium at {CHROMIUM}: run infra/setup --test (it installs Debian's)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


NewPage = Callable[..., Awaitable["Page"]]


def fake_cameras(count: int) -> list[str]:
    """Chromium's flags with ``count`` fake cameras (its fake device gives one by default)."""
    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--use-fake-device-for-media-stream"]
    return [*flags, f"--use-fake-device-for-media-stream=device-count={count}"]


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[NewPage]:
    """``await new_page(width=375, locale=None, cameras=1)``: a page in a fresh context (own
    cookies). ``locale`` sets the browser's languages; the site ignores them unless asked.
    ``cameras=2`` opens it in a Chromium of its own that has two fake cameras."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []
    many_cameras: dict[int, Browser] = {}

    async def make(
        width: int = DESKTOP["width"], height: int | None = None, cameras: int = 1, **options: Any
    ) -> Page:
        size = PHONE if width <= PHONE["width"] else DESKTOP
        chromium = browser
        if cameras != 1:
            if cameras not in many_cameras:
                many_cameras[cameras] = await browser.browser_type.launch(
                    executable_path=CHROMIUM, args=fake_cameras(cameras), headless=True
                )
            chromium = many_cameras[cameras]
        context = await chromium.new_context(
            viewport={"width": width, "height": height or size["height"]},
            has_touch=width <= PHONE["width"],
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        await context.close()
    for extra in many_cameras.values():
        await extra.close()
    # A script error on any page fails the test: enhancement must never break a page.
    assert errors == [], errors


async def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save ``tests/screenshots/<name>-<width>.png`` and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{width}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def at_widths(
    page: Page, name: str, widths: tuple[int, ...] = (PHONE["width"], DESKTOP["width"])
) -> list[Path]:
    """Screenshots of the current page at phone and desktop widths."""
    original = page.viewport_size
    paths = []
    for width in widths:
        size = PHONE if width <= PHONE["width"] else DESKTOP
        await page.set_viewport_size({"width": width, "height": size["height"]})
        await asyncio.sleep(0.05)  # let layout settle after the resize
        paths.append(await save_screenshot(page, name))
    if original:
        await page.set_viewport_size(original)
    return paths


async def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0 when it fits)."""
    return int(
        await page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - window.innerWidth"
        )
    )
