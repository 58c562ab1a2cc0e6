"""What the accounts domain adds to the platform: sign-up, sessions, invitations."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from medmarket.accounts import routes
from medmarket.accounts.passwords import Passwords
from medmarket.accounts.service import Accounts
from medmarket.accounts.throttle import SignInThrottle
from medmarket.domain import Domain


@asynccontextmanager
async def accounts_lifespan(app: Litestar) -> AsyncIterator[None]:
    """The accounts service every request's guard asks who is signed in."""
    services, settings = app.state.services, app.state.settings
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


DOMAIN = Domain(
    name="accounts",
    routes=routes.ROUTES,
    dependencies=routes.DEPENDENCIES,
    lifespans=[accounts_lifespan],
)
