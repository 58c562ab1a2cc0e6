"""The resources a running platform holds: built once (by the app's lifespan, the worker or
the CLI), handed to whatever needs them, and released in reverse order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
from redis.asyncio import Redis

from medmarket.db import Database, Login, connect_pool
from medmarket.outbound import OutboundPolicy, outbound_client
from medmarket.payments.purposes import PaymentPurpose, PurposeRegistry, installed_purposes
from medmarket.plugin_manager import PluginHost
from medmarket.settings import Settings, SettingsError


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    redis: Redis
    plugins: PluginHost
    # For URLs others gave the platform (webhook receivers): reaches public addresses and
    # MEDMARKET_OUTBOUND_ALLOWED_NETWORKS only (outbound.py).
    http: httpx.AsyncClient
    # What can be paid for (bookings, pharmacy orders): see payments/purposes.py.
    payment_purposes: PurposeRegistry


async def app_database(settings: Settings, *, min_size: int = 1, max_size: int = 10) -> Database:
    """The application's database: logged in as ``database_app_user`` (which holds only the
    application role's privileges), working as ``database_app_role``."""
    login = Login(settings.database_app_user, settings.database_app_password)
    role = settings.database_app_role or None
    try:
        pool = await connect_pool(
            settings.database_url, role=role, login=login, min_size=min_size, max_size=max_size
        )
    except (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidPasswordError) as exc:
        raise SettingsError(
            f"PostgreSQL refuses the application's login {settings.database_app_user!r} "
            f"({exc}): run `medmarket migrate` first (it creates that role), give its password "
            "as MEDMARKET_DATABASE_APP_PASSWORD, or set MEDMARKET_DATABASE_APP_USER to another "
            "user (empty: DATABASE_URL's own)"
        ) from None
    return Database(pool, dsn=settings.database_url, role=role, login=login)


@asynccontextmanager
async def open_services(
    settings: Settings,
    extra_plugins: Iterable[tuple[str, object]] = (),
    payment_purposes: Iterable[PaymentPurpose] = (),
) -> AsyncIterator[Services]:
    async with AsyncExitStack() as stack:
        db = await app_database(
            settings, min_size=settings.database_pool_min, max_size=settings.database_pool_max
        )
        stack.push_async_callback(db.close)
        redis = Redis.from_url(settings.redis_url, decode_responses=False)
        stack.push_async_callback(redis.aclose)
        http = outbound_client(
            OutboundPolicy.from_settings(settings), timeout=settings.webhook_timeout_seconds
        )
        stack.push_async_callback(http.aclose)
        plugins = PluginHost(settings, extra_plugins)
        stack.push_async_callback(plugins.aclose)
        yield Services(
            settings=settings,
            db=db,
            redis=redis,
            plugins=plugins,
            http=http,
            payment_purposes=PurposeRegistry([*installed_purposes(), *payment_purposes]),
        )
