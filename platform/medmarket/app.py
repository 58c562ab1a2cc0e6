"""``create_app(settings)``: the one place that assembles the application.

Resources (the PostgreSQL pool, Redis, the plugin host, the HTTP client) are built in the
lifespan and kept on ``app.state``; nothing is built at import time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin

from medmarket.accounts import routes as account_routes
from medmarket.accounts.guards import PUBLIC, access_guard, audit_context, current_principal
from medmarket.accounts.passwords import Passwords
from medmarket.accounts.service import Accounts
from medmarket.accounts.throttle import SignInThrottle
from medmarket.audit import routes as audit_routes
from medmarket.errors import EXCEPTION_HANDLERS
from medmarket.ledger import routes as ledger_routes
from medmarket.ops import routes as ops_routes
from medmarket.payments import routes as payment_routes
from medmarket.payments.purposes import PaymentPurpose
from medmarket.services import Services, open_services
from medmarket.settings import Settings, load_settings

log = logging.getLogger("medmarket")

# Each domain's routes module exports ROUTES and, when it injects its own services,
# DEPENDENCIES (name -> Provide). Add a domain by adding its module here.
ROUTE_MODULES: list[ModuleType] = [
    account_routes,
    audit_routes,
    ops_routes,
    payment_routes,
    ledger_routes,
]


def _route_handlers() -> list[Any]:
    return [handler for module in ROUTE_MODULES for handler in module.ROUTES]


def _domain_dependencies() -> dict[str, Provide]:
    provided: dict[str, Provide] = {}
    for module in ROUTE_MODULES:
        for name, provider in getattr(module, "DEPENDENCIES", {}).items():
            if name in provided:
                raise RuntimeError(f"two domains provide the dependency {name!r}")
            provided[name] = provider
    return provided


def create_app(
    settings: Settings,
    *,
    extra_plugins: Iterable[tuple[str, object]] = (),
    payment_purposes: Iterable[PaymentPurpose] = (),
) -> Litestar:
    """Build the application. ``extra_plugins`` are (name, plugin) pairs registered beside the
    installed ones; tests use it to add plugins that misbehave on purpose. ``payment_purposes``
    are added to the installed ones (tests pay for a purpose of their own)."""
    extra = list(extra_plugins)
    purposes = list(payment_purposes)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services(settings, extra, purposes) as services:
            app.state.services = services
            app.state.accounts = Accounts(
                services.db,
                Passwords(settings),
                SignInThrottle(
                    services.redis,
                    per_account=settings.login_failures_per_account,
                    per_address=settings.login_failures_per_address,
                    window=settings.login_throttle_window_seconds,
                ),
                dt.timedelta(seconds=settings.session_ttl_seconds),
            )
            yield

    def provide_services(request: Request[Any, Any, Any]) -> Services:
        return request.app.state.services  # type: ignore[no-any-return]

    return Litestar(
        route_handlers=_route_handlers(),
        lifespan=[lifespan],
        guards=[access_guard],
        dependencies={
            **_domain_dependencies(),
            "services": Provide(provide_services, sync_to_thread=False),
            "principal": Provide(current_principal, sync_to_thread=False),
            "context": Provide(audit_context, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"settings": settings}),
        openapi_config=OpenAPIConfig(
            title="MedMarket",
            version="0.1.0",
            path="/schema",
            openapi_router=Router(path="/schema", route_handlers=[], opt=PUBLIC),
            render_plugins=[SwaggerRenderPlugin(), JsonRenderPlugin(), YamlRenderPlugin()],
        ),
        request_max_body_size=20 * 1024 * 1024,
        debug=False,
    )


def create_app_from_environment() -> Litestar:
    """The ASGI factory ``medmarket serve`` hands to uvicorn."""
    return create_app(load_settings())
