"""A courier with an HTTP open API for MedMarket: quotes in fen, waybills made once per
delivery (the core's reference is the idempotency key), tracking with proof of delivery,
cancellation, and status call-backs signed with HMAC-SHA256."""

from __future__ import annotations

import os
from collections.abc import Sequence

from medmarket import Courier, Settings, hookimpl
from medmarket_courier_http.api import (
    CourierHttpError,
    CourierRequestError,
    CourierTimeout,
    CourierUnavailable,
    WaybillNotFound,
)
from medmarket_courier_http.config import ConfigError, CourierHttpConfig
from medmarket_courier_http.courier import (
    SIGNATURE_HEADER,
    STATUSES,
    TIMESTAMP_HEADER,
    HttpCourier,
    signature,
)

__all__ = [
    "SIGNATURE_HEADER",
    "STATUSES",
    "TIMESTAMP_HEADER",
    "ConfigError",
    "CourierHttpConfig",
    "CourierHttpError",
    "CourierRequestError",
    "CourierTimeout",
    "CourierUnavailable",
    "HttpCourier",
    "WaybillNotFound",
    "medmarket_couriers",
    "signature",
]


@hookimpl
def medmarket_couriers(settings: Settings) -> Sequence[Courier] | None:
    config = CourierHttpConfig.from_environment(os.environ)
    if config is None:
        return None  # not configured on this installation
    return [HttpCourier(config, settings)]
