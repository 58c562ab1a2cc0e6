"""Fixtures of the FHIR plugin's tests: the test FHIR server (``server.py``), the platform's
settings as the hook receives them (from the plugin test kit), the adapter type."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import msgspec
import pytest
from medmarket_hospital_fhir import FhirHospitalType, medmarket_hospital_adapters

from medmarket import Settings
from medmarket.testing import plugin_settings
from medmarket.testing.http_recorder import HttpRecorder

from .server import FhirServer


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    recorder = HttpRecorder()
    server = FhirServer(recorder)
    recorder.responder = server.answer
    with recorder.serving():
        yield server


LOOPBACK_ALLOWED = {"outbound_allowed_networks": ["127.0.0.1/32"]}


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The platform's settings as the plugin's hook receives them."""
    return plugin_settings()


@pytest.fixture(scope="session")
def loopback_settings(settings: Settings) -> Settings:
    """The settings with the operator's allow-list for the test servers, which listen on
    127.0.0.1 (a stand-in for a hospital reached over a private network)."""
    return msgspec.structs.replace(settings, **LOOPBACK_ALLOWED)


def fhir_type_for(settings: Settings) -> FhirHospitalType:
    """The adapter type as the plugin's hook offers it for ``settings``."""
    [offered] = medmarket_hospital_adapters(settings=settings)
    assert isinstance(offered, FhirHospitalType)
    return offered


@pytest.fixture
def fhir_type(loopback_settings: Settings) -> FhirHospitalType:
    return fhir_type_for(loopback_settings)


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
