"""The operators' dashboard: today's figures (bookings, visits, payments and refunds,
applications waiting), the health of every installed plugin and the circuit breakers
that this instance holds open."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Router, get
from litestar.response import Template

from medmarket.accounts.guards import allow
from medmarket.ops.dashboard import today_figures
from medmarket.pages.rendering import formatter, page
from medmarket.services import Services


@get("/")
async def dashboard(request: Request[Any, Any, Any]) -> Template:
    services: Services = request.app.state.services
    fmt = formatter(request)
    day = dt.datetime.now(fmt.zone).date()
    figures = await today_figures(services.db, day, fmt.zone)
    health = await services.plugins.health()  # every adapter asked behind a timeout
    return page(
        request,
        "operator/dashboard.html",
        figures=figures,
        plugins=services.plugins.describe(),
        health=sorted(health.items()),
        breakers=services.plugins.breakers(),
    )


ROUTES = [
    Router(
        path="/operator",
        opt=allow("operator"),
        route_handlers=[dashboard],
        include_in_schema=False,
    )
]
