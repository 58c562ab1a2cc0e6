"""Fixtures of the doctors' tests: an app whose hospitals may be down or hang, and a client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from medmarket import (
    AffiliationQuery,
    AffiliationVerification,
    HealthReport,
    LicenceQuery,
    LicenceVerification,
    hookimpl,
)
from medmarket.app import create_app
from medmarket.settings import Settings
from medmarket.tests.support.fixtures import client_for, make_settings, running

UNRELIABLE_TIMEOUT_SECONDS = 0.5


class NoConfig(msgspec.Struct, forbid_unknown_fields=True):
    pass


class DownHospital:
    """A hospital whose systems refuse every connection."""

    async def verify_licence(self, query: LicenceQuery) -> LicenceVerification:
        raise ConnectionRefusedError("hospital system is down")

    async def confirm_affiliation(self, query: AffiliationQuery) -> AffiliationVerification:
        raise ConnectionRefusedError("hospital system is down")

    async def end_affiliation(self, query: AffiliationQuery, reason: str) -> None:
        raise ConnectionRefusedError("hospital system is down")

    async def health(self) -> HealthReport:
        raise ConnectionRefusedError("hospital system is down")

    async def aclose(self) -> None:
        return None


class HangingHospital(DownHospital):
    """A hospital whose systems accept the question and never answer."""

    async def verify_licence(self, query: LicenceQuery) -> LicenceVerification:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def confirm_affiliation(self, query: AffiliationQuery) -> AffiliationVerification:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


class UnreliableType:
    config_type = NoConfig

    def __init__(self, type_id: str, adapter: type[DownHospital]) -> None:
        self.id = self.display_name = type_id
        self.adapter = adapter

    def create(self, config: NoConfig) -> DownHospital:
        return self.adapter()


class UnreliableHospitals:
    @hookimpl
    def medmarket_hospital_adapters(self, settings: Settings) -> Sequence[Any]:
        return [UnreliableType("down", DownHospital), UnreliableType("hanging", HangingHospital)]


@pytest.fixture(scope="session")
async def unreliable_app(database_url: str, settings: Settings) -> AsyncIterator[Litestar]:
    """The platform with two more hospital adapter types, ``down`` and ``hanging``, and a
    short plugin timeout."""
    quick = make_settings(
        database_url,
        plugin_timeout_seconds=UNRELIABLE_TIMEOUT_SECONDS,
        data_dir=settings.data_dir,
    )
    application = create_app(quick, extra_plugins=[("unreliable", UnreliableHospitals())])
    async with running(application):
        yield application


@pytest.fixture
async def http(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client
