"""Plugins that fail on purpose, for the tests of the error boundary."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import msgspec

from medmarket import hookimpl
from medmarket.health import HealthReport
from medmarket.hospitals.interface import LicenceQuery, LicenceVerification


class NoConfig(msgspec.Struct):
    pass


class RaisingAdapter:
    async def verify_licence(self, query: LicenceQuery) -> LicenceVerification:
        raise ConnectionError("hospital system is down")

    async def health(self) -> HealthReport:
        raise ConnectionError("hospital system is down")


class HangingAdapter:
    async def verify_licence(self, query: LicenceQuery) -> LicenceVerification:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def health(self) -> HealthReport:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


class AdapterType:
    def __init__(self, type_id: str, adapter: RaisingAdapter | HangingAdapter) -> None:
        self.id = type_id
        self.display_name = type_id
        self.config_type = NoConfig
        self._adapter = adapter

    def create(self, config: Any) -> RaisingAdapter | HangingAdapter:
        return self._adapter

    async def health(self) -> HealthReport:
        return await self._adapter.health()


class RaisingHospitalPlugin:
    @hookimpl
    def medmarket_hospital_adapters(self, settings: Any) -> Sequence[Any]:
        return [AdapterType("raising", RaisingAdapter())]


class HangingHospitalPlugin:
    @hookimpl
    def medmarket_hospital_adapters(self, settings: Any) -> Sequence[Any]:
        return [AdapterType("hanging", HangingAdapter())]


class BrokenAtStartPlugin:
    @hookimpl
    def medmarket_couriers(self, settings: Any) -> Sequence[Any]:
        raise RuntimeError("courier plugin misconfigured")


MISBEHAVING = [
    ("raising-hospital", RaisingHospitalPlugin()),
    ("hanging-hospital", HangingHospitalPlugin()),
    ("broken-at-start", BrokenAtStartPlugin()),
]
