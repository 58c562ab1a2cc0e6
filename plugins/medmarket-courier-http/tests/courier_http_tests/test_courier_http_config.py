"""The plugin's settings from MEDMARKET_COURIER_HTTP_*, and its hook."""

from __future__ import annotations

import pytest
from medmarket_courier_http import (
    ConfigError,
    CourierHttpConfig,
    HttpCourier,
    medmarket_couriers,
)

from medmarket import Settings

BASE = {
    "MEDMARKET_COURIER_HTTP_URL": "https://open.courier.example/",
    "MEDMARKET_COURIER_HTTP_API_KEY": "key",
}


def test_unset_means_not_configured() -> None:
    assert CourierHttpConfig.from_environment({}) is None


def test_defaults_and_every_option(settings: Settings) -> None:
    config = CourierHttpConfig.from_environment(BASE)
    assert config is not None
    assert (config.id, config.callback_tolerance_seconds, config.callback_secret) == (
        "courier-http",
        300,
        None,
    )
    courier = HttpCourier(config, settings)
    assert courier.timeout_seconds == settings.plugin_timeout_seconds
    assert courier.api.base_url == "https://open.courier.example/v1"
    assert courier.notify_url is None
    config = CourierHttpConfig.from_environment(
        {
            **BASE,
            "MEDMARKET_COURIER_HTTP_CALLBACK_SECRET": "s",
            "MEDMARKET_COURIER_HTTP_ID": "sf-city",
            "MEDMARKET_COURIER_HTTP_NAME": "顺丰同城",
            "MEDMARKET_COURIER_HTTP_TIMEOUT_SECONDS": "4.5",
            "MEDMARKET_COURIER_HTTP_CALLBACK_TOLERANCE_SECONDS": "60",
        }
    )
    assert config is not None
    courier = HttpCourier(config, settings)
    assert (courier.id, courier.display_name, courier.timeout_seconds) == (
        "sf-city",
        "顺丰同城",
        4.5,
    )
    assert courier.notify_url == "https://medmarket.example/api/couriers/sf-city/callbacks"
    assert config.callback_tolerance_seconds == 60


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"MEDMARKET_COURIER_HTTP_API_KEY": ""}, "MEDMARKET_COURIER_HTTP_API_KEY"),
        ({"MEDMARKET_COURIER_HTTP_URL": "ftp://x"}, "MEDMARKET_COURIER_HTTP_URL"),
        ({"MEDMARKET_COURIER_HTTP_ID": "Not An Id"}, "MEDMARKET_COURIER_HTTP_ID"),
        ({"MEDMARKET_COURIER_HTTP_TIMEOUT_SECONDS": "0"}, "MEDMARKET_COURIER_HTTP_TIMEOUT_SECONDS"),
        (
            {"MEDMARKET_COURIER_HTTP_CALLBACK_TOLERANCE_SECONDS": "soon"},
            "MEDMARKET_COURIER_HTTP_CALLBACK_TOLERANCE_SECONDS",
        ),
    ],
)
def test_a_bad_value_names_its_variable(extra: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        CourierHttpConfig.from_environment({**BASE, **extra})


def test_the_hook_offers_the_courier_only_when_configured(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in BASE:
        monkeypatch.delenv(name, raising=False)
    assert medmarket_couriers(settings=settings) is None
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    [courier] = medmarket_couriers(settings=settings) or []
    assert isinstance(courier, HttpCourier) and courier.id == "courier-http"
