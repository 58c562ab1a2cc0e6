"""The platform with a courier installed: the HTTP courier plugin, talking to its local test
courier (the plugin's own test server), the platform allowed to reach it on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

import msgspec
import pytest
from courier_http_tests.server import CourierServer, courier_server
from litestar import Litestar
from medmarket_courier_http import CourierHttpConfig, HttpCourier

from medmarket import Courier, hookimpl
from medmarket.app import create_app
from medmarket.settings import Settings
from medmarket.tests.support.fixtures import running


class InstalledCourier:
    """The plugin's courier, configured for the test courier as an operator would."""

    def __init__(self, courier: HttpCourier) -> None:
        self.courier = courier

    @hookimpl
    def medmarket_couriers(self, settings: Settings) -> Sequence[Courier]:
        return [self.courier]


@pytest.fixture(scope="session")
def courier_http() -> Iterator[CourierServer]:
    with courier_server() as server:
        yield server


@pytest.fixture
def courier(courier_http: CourierServer) -> Iterator[CourierServer]:
    """The session's test courier, behaving (a test that makes it misbehave is undone)."""
    courier_http.behave()
    yield courier_http
    courier_http.behave()


@pytest.fixture(scope="session")
async def courier_app(settings: Settings, courier_http: CourierServer) -> AsyncIterator[Litestar]:
    allowed = msgspec.structs.replace(settings, outbound_allowed_networks=["127.0.0.1/32"])
    config = CourierHttpConfig.from_environment(courier_http.environment(timeout_seconds="2"))
    assert config is not None
    plugin = InstalledCourier(HttpCourier(config, allowed))
    async with running(create_app(allowed, extra_plugins=[("test-courier", plugin)])) as app:
        yield app
