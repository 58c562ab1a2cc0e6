"""What the accounts domain adds to the platform: sign-up, sessions, invitations."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from medmarket.accounts import routes
from medmarket.accounts.devices import KnownDevices
from medmarket.accounts.passwords import Passwords
from medmarket.accounts.places import STAFF_PLACES
from medmarket.accounts.resets import PasswordResets
from medmarket.accounts.service import Accounts
from medmarket.accounts.throttle import AccountThrottle, Limits
from medmarket.domain import Domain


@asynccontextmanager
async def accounts_lifespan(app: Litestar) -> AsyncIterator[None]:
    """The accounts service every request's guard asks who is signed in (placing invited
    staff where the higher domains' ``STAFF_PLACES`` say), and password resets, sharing the
    passwords and the throttle."""
    services, settings = app.state.services, app.state.settings
    passwords = Passwords(settings)
    throttle = AccountThrottle(services.redis, Limits.from_settings(settings))
    app.state.accounts = Accounts(
        services.db,
        passwords,
        throttle,
        KnownDevices(settings.secret_key),
        session_ttl=dt.timedelta(seconds=settings.session_ttl_seconds),
        base_url=settings.base_url,
        places=services.ports.collect(STAFF_PLACES),
    )
    app.state.password_resets = PasswordResets(
        services.db,
        passwords,
        throttle,
        ttl=dt.timedelta(seconds=settings.password_reset_ttl_seconds),
        base_url=settings.base_url,
    )
    yield


DOMAIN = Domain(
    name="accounts",
    routes=routes.ROUTES,
    dependencies=routes.DEPENDENCIES,
    lifespans=[accounts_lifespan],
)
