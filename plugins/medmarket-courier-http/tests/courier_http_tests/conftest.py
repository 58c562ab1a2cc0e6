"""Fixtures of the courier plugin's tests: the local courier (``server.py``), the platform's
settings as the hook receives them (from the plugin test kit), and the courier they make."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from medmarket_courier_http import CourierHttpConfig, HttpCourier

from medmarket import DeliveryRequest, Money, Parcel, PostalAddress, Settings
from medmarket.testing import plugin_settings

from .server import CourierServer, courier_server

PHARMACY = PostalAddress(
    recipient="杭州仁心大药房",
    phone="+8657188880000",
    province="浙江省",
    city="杭州市",
    district="西湖区",
    street="文三路 90 号",
    postal_code="310012",
)
PATIENT = PostalAddress(
    recipient="王小明",
    phone="+8613800000000",
    province="浙江省",
    city="杭州市",
    street="学院路 1 号",
)
DELIVERY = DeliveryRequest(
    reference="dlv_1",
    pickup=PHARMACY,
    dropoff=PATIENT,
    parcel=Parcel(weight_grams=450, declared_value=Money(12800)),
    handover_code="4821",
)
COLD_DELIVERY = DeliveryRequest(
    reference="dlv_cold",
    pickup=PHARMACY,
    dropoff=PATIENT,
    parcel=Parcel(weight_grams=900, cold_chain=True, description="胰岛素"),
)


@pytest.fixture
def courier_http() -> Iterator[CourierServer]:
    with courier_server() as server:
        yield server


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The platform's settings as the hook receives them, with the operator's allow-list
    for the test courier, which listens on 127.0.0.1."""
    return plugin_settings(
        outbound_allowed_networks=["127.0.0.1/32"], base_url="https://medmarket.example"
    )


def courier_for(server: CourierServer, settings: Settings, **more: str) -> HttpCourier:
    config = CourierHttpConfig.from_environment(server.environment(**more))
    assert config is not None
    return HttpCourier(config, settings)


@pytest.fixture
def courier(courier_http: CourierServer, settings: Settings) -> HttpCourier:
    return courier_for(courier_http, settings, timeout_seconds="2")
