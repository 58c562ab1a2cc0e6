"""The plugin's settings: a bad value stops it at start-up with the variable named, before
any carrier sees it."""

from __future__ import annotations

import pytest
from medmarket_video_5g.config import CarrierConfig, ConfigError

ROOT = "https://api.carrier.example"


def load(**changes: str | None) -> CarrierConfig:
    environ: dict[str, str | None] = {
        "MEDMARKET_5G_QOD_URL": ROOT,
        "MEDMARKET_5G_ACCESS_TOKEN": "carrier-token",
        "MEDMARKET_5G_APPLICATION_SERVER": "198.51.100.0/24",
    }
    environ.update(changes)
    loaded = CarrierConfig.from_environment({k: v for k, v in environ.items() if v is not None})
    assert loaded is not None
    return loaded


def test_quality_on_demand_1_1_0_is_spoken_unless_another_version_is_chosen() -> None:
    assert load().qod_version == "v1"
    assert load().qod_base_url == ROOT + "/quality-on-demand/v1"
    chosen = load(MEDMARKET_5G_QOD_VERSION="vwip")
    assert chosen.qod_base_url == ROOT + "/quality-on-demand/vwip"


@pytest.mark.parametrize(
    ("url", "version", "base"),
    [
        (ROOT + "/", None, ROOT + "/quality-on-demand/v1"),
        (ROOT + "/somepath", "vwip", ROOT + "/somepath/quality-on-demand/vwip"),
        # Named as the README once asked (with its base path): the same version is fine.
        (ROOT + "/quality-on-demand/v1", None, ROOT + "/quality-on-demand/v1"),
        (ROOT + "/quality-on-demand/vwip/", "vwip", ROOT + "/quality-on-demand/vwip"),
    ],
)
def test_the_qod_url_is_the_api_root_the_version_adds_its_base_path(
    url: str, version: str | None, base: str
) -> None:
    assert load(MEDMARKET_5G_QOD_URL=url, MEDMARKET_5G_QOD_VERSION=version).qod_base_url == base


def test_a_qod_url_naming_another_version_than_the_setting_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"QOD_URL.*QOD_VERSION is v1"):
        load(MEDMARKET_5G_QOD_URL=ROOT + "/quality-on-demand/vwip")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"MEDMARKET_5G_QOD_VERSION": "v2"}, "MEDMARKET_5G_QOD_VERSION: "),
        ({"MEDMARKET_5G_QOD_VERSION": "1.1.0"}, "MEDMARKET_5G_QOD_VERSION: "),
        ({"MEDMARKET_5G_MAX_SESSION_SECONDS": "30"}, "MEDMARKET_5G_MAX_SESSION_SECONDS: "),
        # CAMARA's durations are int32.
        ({"MEDMARKET_5G_MAX_SESSION_SECONDS": str(2**31)}, "MEDMARKET_5G_MAX_SESSION_SECONDS: "),
        ({"MEDMARKET_5G_QOS_PROFILE": "Q"}, "MEDMARKET_5G_QOS_PROFILE: "),
    ],
)
def test_a_bad_value_names_its_variable(changes: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(**changes)
    assert str(caught.value).startswith(named)
