"""A carrier's 5G video provider for MedMarket: CAMARA Quality-On-Demand sessions for the
participant's device and the carrier's edge TURN servers."""

from __future__ import annotations

import os
from collections.abc import Sequence

from medmarket import Settings, VideoProvider, hookimpl
from medmarket_video_5g.config import CarrierConfig, ConfigError
from medmarket_video_5g.provider import PROVIDER_ID, FiveGProvider

__all__ = [
    "PROVIDER_ID",
    "CarrierConfig",
    "ConfigError",
    "FiveGProvider",
    "medmarket_video_providers",
]


@hookimpl
def medmarket_video_providers(settings: Settings) -> Sequence[VideoProvider] | None:
    config = CarrierConfig.from_environment(os.environ)
    if config is None:
        return None  # not configured on this installation
    return [FiveGProvider(config, timeout=settings.plugin_timeout_seconds)]
