"""The platform's courier contract, against the local courier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from medmarket_courier_http import HttpCourier

from medmarket import DeliveryRequest, Dispatch
from medmarket.testing.contracts import CourierContract, SignedCallbackMaker

from .conftest import DELIVERY
from .server import CourierServer


class TestTheHttpCourierKeepsTheContract(CourierContract):
    @pytest.fixture
    def courier(self, courier: HttpCourier) -> HttpCourier:
        return courier

    @pytest.fixture
    def request_to_deliver(self) -> DeliveryRequest:
        return DELIVERY

    @pytest.fixture
    def signed_callback(self, courier_http: CourierServer) -> SignedCallbackMaker:
        async def picked_up(dispatch: Dispatch) -> tuple[Mapping[str, str], bytes, dt.datetime]:
            courier_http.advance(dispatch.tracking_number, "picked_up")
            signed = courier_http.callback(dispatch.tracking_number)
            return signed.headers, signed.body, signed.sent_at

        return picked_up
