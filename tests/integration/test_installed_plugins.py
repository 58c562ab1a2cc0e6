"""This repository's plugins are installed and found through their entry points, each
offering its adapters to the platform under its own name."""

from __future__ import annotations

import pytest

from medmarket.plugin_manager import PluginHost
from medmarket.settings import Settings


@pytest.mark.parametrize(
    ("plugin", "provides"),
    [
        ("medmarket-hospital-demo", "hospital adapter:demo-registry"),
        ("medmarket-hospital-fhir", "hospital adapter:fhir-r4"),
    ],
)
async def test_each_plugin_is_found_with_what_it_provides(
    settings: Settings, plugin: str, provides: str
) -> None:
    host = PluginHost(settings)
    try:
        [info] = [i for i in host.describe() if i.name == plugin]
    finally:
        await host.aclose()
    assert info.enabled and info.error is None
    assert info.distribution == plugin and info.version
    assert provides in info.provides
