"""The plugin's settings: a bad value stops it at start-up with the variable named, before
any carrier sees it."""

from __future__ import annotations

import ipaddress
import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from medmarket_video_5g.config import CarrierConfig, ConfigError

from .carrier import QOD_DOCUMENTS

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


@pytest.mark.parametrize(
    "value",
    [
        "256.10.10.10/33",  # the issue's: neither the address nor the prefix exists
        "198.51.100.0/33",
        "2001:db8::/129",
        "198.51.100.0/024",
        "198.51.100.0/",
        "198.51.100.0/255.255.255.0",  # a mask, where the document wants its width
        "198.51.100.0/24/8",
        "010.0.0.1",  # a leading zero, which some stacks read as octal
        "198.51.100",
        "edge.carrier.example",
        "fe80::1%eth0",
        "198.51.100.1,198.51.100.2",
        "2001:db8::1,2001:db8::2",
        "198.51.100.0/24,",
        "",
    ],
)
def test_a_bad_application_server_stops_the_plugin_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(MEDMARKET_5G_APPLICATION_SERVER=value)
    assert str(caught.value).startswith("MEDMARKET_5G_APPLICATION_SERVER")


@pytest.mark.parametrize(
    ("value", "ipv4", "ipv6"),
    [
        ("198.51.100.10", "198.51.100.10", None),
        ("198.51.100.10/24", "198.51.100.10/24", None),  # as the document's own 1.2.3.4/24
        ("0.0.0.0/0", "0.0.0.0/0", None),
        ("2001:db8::/64", None, "2001:db8::/64"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7344", None, "2001:db8:85a3:8d3:1319:8a2e:370:7344"),
        (" 198.51.100.0/24 , 2001:db8::/64", "198.51.100.0/24", "2001:db8::/64"),
    ],
)
def test_an_application_server_is_an_ipv4_and_or_an_ipv6_address_or_network(
    value: str, ipv4: str | None, ipv6: str | None
) -> None:
    addresses = load(MEDMARKET_5G_APPLICATION_SERVER=value).application_server_addresses
    assert (addresses.ipv4, addresses.ipv6) == (ipv4, ipv6)


def _wip_schema(name: str) -> dict[str, object]:
    """The work in progress's schema ``name``: 1.1.0 gives the rule only in words (the bit
    width valid for the IP version); the work in progress also as a pattern."""
    document = yaml.safe_load(QOD_DOCUMENTS["vwip"].read_text())
    schema: dict[str, object] = document["components"]["schemas"][name]
    return schema


WIP_IPV4 = _wip_schema("ApplicationServerIpv4Address")
WIP_IPV6 = _wip_schema("ApplicationServerIpv6Address")


@st.composite
def server_addresses(draw: st.DrawFn) -> str:
    address = draw(st.ip_addresses())
    text = draw(st.sampled_from([str(address), address.exploded]))
    if draw(st.booleans()):
        text += f"/{draw(st.integers(0, address.max_prefixlen))}"
    return text


@given(server_addresses())
def test_every_address_or_network_is_accepted_as_the_documents_write_it(value: str) -> None:
    addresses = load(MEDMARKET_5G_APPLICATION_SERVER=value).application_server_addresses
    version = ipaddress.ip_address(value.partition("/")[0]).version
    assert addresses == ((value, None) if version == 4 else (None, value))
    schema = WIP_IPV4 if version == 4 else WIP_IPV6
    assert re.search(str(schema["pattern"]), value)
    assert len(value) <= int(str(schema["maxLength"]))
