"""The platform with this repository's plugins installed: the fixtures of their test servers
(the fake carrier, the FHIR server) and the platform allowed to reach them on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
from fhir_hospital_tests.server import FhirServer
from litestar import Litestar
from video_5g_tests.fixtures import (  # noqa: F401 - fixtures pytest finds here
    fake_carrier,
    qod_openapi,
    qod_spec_path,
    qod_version,
    strictness,
)

from medmarket.app import create_app
from medmarket.settings import Settings
from medmarket.testing.http_recorder import HttpRecorder
from medmarket.tests.support.fixtures import running


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    recorder = HttpRecorder()
    server = FhirServer(recorder)
    recorder.responder = server.answer
    with recorder.serving():
        yield server


@pytest.fixture(scope="session")
async def fhir_app(settings: Settings) -> AsyncIterator[Litestar]:
    """The platform with the operator's allow-list for 127.0.0.1, where the test FHIR server
    stands in for a hospital reached over a private network."""
    allowed = msgspec.structs.replace(settings, outbound_allowed_networks=["127.0.0.1/32"])
    async with running(create_app(allowed)) as application:
        yield application


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
