"""``create_app(settings)``: the one place that assembles the web application, from the
domains listed in ``domains.py``.

Resources (the PostgreSQL pool, Redis, the plugin host, the HTTP client) are built in the
lifespan and kept on ``app.state``; nothing is built at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin

from medmarket.accounts.guards import (
    AUTHENTICATION,
    PUBLIC,
    access_guard,
    audit_context,
    current_principal,
)
from medmarket.domain import Domain
from medmarket.domains import DOMAINS, dependencies, open_platform
from medmarket.errors import EXCEPTION_HANDLERS
from medmarket.openapi import complete_openapi
from medmarket.pages.assets import WebAssets
from medmarket.pages.errors import page_aware
from medmarket.pages.forms import form_token_guard
from medmarket.services import Services
from medmarket.settings import Settings, load_settings
from medmarket.strict_reading import read_as_documented
from medmarket.text_guard import refuse_nul_characters

log = logging.getLogger("medmarket")


def create_app(
    settings: Settings,
    *,
    extra_plugins: Iterable[tuple[str, object]] = (),
    extra_domains: Sequence[Domain] = (),
) -> Litestar:
    """Build the application of ``DOMAINS``. ``extra_plugins`` are (name, plugin) pairs
    registered beside the installed ones (tests add plugins that misbehave on purpose);
    ``extra_domains`` join the platform's own (tests pay for a purpose of their own)."""
    domains = [*DOMAINS, *extra_domains]
    extra = list(extra_plugins)
    # Pages: templates, static files and catalogs from web/ (found now: a missing folder
    # stops start-up with the setting named, like any bad setting).
    web = WebAssets.for_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_platform(settings, domains, extra_plugins=extra) as services:
            app.state.services = services
            async with AsyncExitStack() as stack:
                for domain in domains:
                    for domain_lifespan in domain.lifespans:
                        await stack.enter_async_context(domain_lifespan(app))
                yield

    def provide_services(request: Request[Any, Any, Any]) -> Services:
        return request.app.state.services  # type: ignore[no-any-return]

    app = Litestar(
        # Every API first, then the pages, which use the APIs' services.
        route_handlers=[
            *(handler for domain in domains for handler in domain.routes),
            *(handler for domain in domains for handler in domain.pages),
            web.static_router(),
        ],
        lifespan=[lifespan],
        # Who may call a route, then: a form-like body must carry our CSRF token; then
        # parameters and bodies are read as the OpenAPI document describes them.
        guards=[access_guard, form_token_guard, read_as_documented],
        middleware=[refuse_nul_characters],
        dependencies={
            **dependencies(domains),
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
            openapi_router=Router(
                path="/schema", route_handlers=[], opt=PUBLIC, include_in_schema=False
            ),
            render_plugins=[SwaggerRenderPlugin(), JsonRenderPlugin(), YamlRenderPlugin()],
        ),
        request_max_body_size=20 * 1024 * 1024,
        debug=False,
    )
    # Every operation's problems, content types and security, from what its route is.
    complete_openapi(app, AUTHENTICATION)
    return app


def create_app_from_environment() -> Litestar:
    """The ASGI factory ``medmarket serve`` hands to uvicorn."""
    return create_app(load_settings())
