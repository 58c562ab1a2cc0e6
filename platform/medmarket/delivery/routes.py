"""Couriers' call-backs: ``POST /api/couriers/{courier_id}/callbacks``, public (a courier
signs its call-backs; its plugin verifies them). 200 with what was applied, 401 for a
call-back that is not authentic or too old, 404 for a courier not installed."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from medmarket.accounts.guards import PUBLIC
from medmarket.delivery.service import CallbackOutcome, Deliveries
from medmarket.openapi import answers

TAGS = ["delivery"]
MAX_BODY = 256 * 1024


def provide_deliveries(request: Request[Any, Any, Any]) -> Deliveries:
    return Deliveries(request.app.state.services)


@post(
    "/{courier_id:str}/callbacks",
    opt=answers(400, 401, 404, 413),
    status_code=HTTP_200_OK,
    request_max_body_size=MAX_BODY,
)
async def courier_callback(
    request: Request[Any, Any, Any],
    courier_id: FromPath[str],
    deliveries: NamedDependency[Deliveries],
) -> CallbackOutcome:
    """Status events from a courier, each applied once however often it is sent."""
    body = await request.body()
    return await deliveries.receive_callback(courier_id, dict(request.headers), body)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            Router(path="/couriers", opt=PUBLIC, route_handlers=[courier_callback]),
        ],
    )
]
DEPENDENCIES = {"deliveries": Provide(provide_deliveries, sync_to_thread=False)}
