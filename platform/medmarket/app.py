"""``create_app(settings)``: the one place that assembles the application.

Resources (the PostgreSQL pool, Redis, the plugin host, the HTTP client) are built in the
lifespan and kept on ``app.state``; nothing is built at import time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from types import ModuleType
from typing import Any

from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin

from medmarket.accounts import routes as account_routes
from medmarket.accounts.devices import KnownDevices
from medmarket.accounts.guards import PUBLIC, access_guard, audit_context, current_principal
from medmarket.accounts.passwords import Passwords
from medmarket.accounts.resets import PasswordResets
from medmarket.accounts.service import Accounts
from medmarket.accounts.throttle import AccountThrottle, Limits
from medmarket.audit import routes as audit_routes
from medmarket.bookings import doctor_pages as booking_doctor_pages
from medmarket.bookings import pages as booking_pages
from medmarket.bookings import routes as booking_routes
from medmarket.catalog import pages as catalog_pages
from medmarket.catalog import routes as catalog_routes
from medmarket.consults import pages as consult_pages
from medmarket.consults import routes as consult_routes
from medmarket.doctors import pages as doctor_pages
from medmarket.doctors import review_pages as doctor_review_pages
from medmarket.doctors import routes as doctor_routes
from medmarket.errors import EXCEPTION_HANDLERS
from medmarket.hospitals import pages as hospital_pages
from medmarket.hospitals import routes as hospital_routes
from medmarket.ledger import pages as ledger_pages
from medmarket.ledger import routes as ledger_routes
from medmarket.ops import pages as ops_pages
from medmarket.ops import routes as ops_routes
from medmarket.pages import routes as page_routes
from medmarket.pages.assets import WebAssets
from medmarket.pages.errors import page_aware
from medmarket.pages.forms import form_token_guard
from medmarket.patients import health_pages as patient_health_pages
from medmarket.patients import pages as patient_pages
from medmarket.patients import routes as patient_routes
from medmarket.payments import routes as payment_routes
from medmarket.payments.purposes import PaymentPurpose
from medmarket.reviews import pages as visit_review_pages
from medmarket.reviews import routes as review_routes
from medmarket.scheduling import pages as schedule_pages
from medmarket.scheduling import routes as schedule_routes
from medmarket.services import Services, open_services
from medmarket.settings import Settings, load_settings
from medmarket.signaling import routes as signaling_routes
from medmarket.text_guard import refuse_nul_characters
from medmarket.video import routes as video_routes

log = logging.getLogger("medmarket")

# Each domain's routes module exports ROUTES and, when it injects its own services,
# DEPENDENCIES (name -> Provide); when it runs per-instance background work (a stream reader,
# a sweeper), LIFESPAN: a callable taking the app and returning an async context manager,
# entered once the shared services are on app.state and left before they close.
# Add a domain by adding its module here.
ROUTE_MODULES: list[ModuleType] = [
    account_routes,
    audit_routes,
    ops_routes,
    patient_routes,
    schedule_routes,
    catalog_routes,
    booking_routes,
    review_routes,
    signaling_routes,
    video_routes,
    consult_routes,
    hospital_routes,
    doctor_routes,
    payment_routes,
    ledger_routes,
    page_routes,
    # Pages of each domain (web/README.md): after the APIs whose services they use.
    patient_pages,
    patient_health_pages,
    catalog_pages,
    booking_pages,
    doctor_pages,
    doctor_review_pages,
    hospital_pages,
    schedule_pages,
    booking_doctor_pages,
    visit_review_pages,
    ledger_pages,
    ops_pages,
    consult_pages,
]

DomainLifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def _route_handlers() -> list[Any]:
    return [handler for module in ROUTE_MODULES for handler in module.ROUTES]


def _domain_lifespans() -> list[DomainLifespan]:
    return [module.LIFESPAN for module in ROUTE_MODULES if hasattr(module, "LIFESPAN")]


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
    # Pages: templates, static files and catalogs from web/ (found now: a missing folder
    # stops start-up with the setting named, like any bad setting).
    web = WebAssets.for_settings(settings)
    purposes = list(payment_purposes)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services(settings, extra, purposes) as services:
            app.state.services = services
            passwords = Passwords(settings)
            throttle = AccountThrottle(services.redis, Limits.from_settings(settings))
            app.state.accounts = Accounts(
                services.db,
                passwords,
                throttle,
                KnownDevices(settings.secret_key),
                session_ttl=dt.timedelta(seconds=settings.session_ttl_seconds),
                base_url=settings.base_url,
            )
            app.state.password_resets = PasswordResets(
                services.db,
                passwords,
                throttle,
                ttl=dt.timedelta(seconds=settings.password_reset_ttl_seconds),
                base_url=settings.base_url,
            )
            async with AsyncExitStack() as domains:
                for domain_lifespan in _domain_lifespans():
                    await domains.enter_async_context(domain_lifespan(app))
                yield

    def provide_services(request: Request[Any, Any, Any]) -> Services:
        return request.app.state.services  # type: ignore[no-any-return]

    return Litestar(
        route_handlers=[*_route_handlers(), web.static_router()],
        lifespan=[lifespan],
        # Who may call a route, then: a form-like body must carry our CSRF token.
        guards=[access_guard, form_token_guard],
        middleware=[refuse_nul_characters],
        dependencies={
            **_domain_dependencies(),
            "services": Provide(provide_services, sync_to_thread=False),
            "principal": Provide(current_principal, sync_to_thread=False),
            "context": Provide(audit_context, sync_to_thread=False),
        },
        # Browsers asking for a page get error pages; API clients keep problem+json.
        exception_handlers=page_aware(EXCEPTION_HANDLERS),
        template_config=web.template_config(),
        state=State({"settings": settings, "web": web}),
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
