"""The resources a running platform holds: built once (by the composition root: the app's
lifespan, the worker or the CLI, through ``medmarket.domains.open_platform``), handed to
whatever needs them, and released in reverse order.

``Services.ports`` carries what higher domains provide to lower ones. A lower domain that
needs something of a higher one declares a ``Port`` beside the Protocol it needs (payments:
``PAYMENT_PURPOSES``; bookings: ``BOOKING_LISTENERS``; signaling: ``ROOM_AUTHORITY``); a higher
domain's declaration (its ``domain.py``) provides it; the composition root fills the ports
before the platform serves. So dependencies run one way: the lower domain names only its own
Protocol, never the domain that implements it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg
import httpx
from redis.asyncio import Redis

from medmarket.db import Database, Login, connect_pool
from medmarket.outbound import OutboundPolicy, outbound_client
from medmarket.plugin_manager import PluginHost
from medmarket.settings import Settings, SettingsError

T = TypeVar("T")


class Port(Generic[T]):
    """A need a lower domain declares: one implementation (``many=False``: the room
    authority) or any number of them (``many=True``: payment purposes, booking listeners)."""

    def __init__(
        self, name: str, *, many: bool = False, check: Callable[[Any], object] | None = None
    ) -> None:
        self.name = name
        self.many = many
        # Called with what was provided when the platform starts; raises if it cannot serve.
        self.check = check

    def __repr__(self) -> str:
        return f"Port({self.name!r})"


@dataclass(frozen=True)
class Provision(Generic[T]):
    """A higher domain's answer to a port: a factory called once with the services."""

    port: Port[T]
    factory: Callable[[Services], T]
    domain: str = ""


def provide(port: Port[T], factory: Callable[[Services], T]) -> Provision[T]:
    return Provision(port, factory)


class PortNotProvided(LookupError):
    pass


class Ports:
    """The ports of one running platform. Each provision's factory runs once, on first use
    (so a factory may itself use another port); ``resolve_all`` runs them all at start-up so a
    missing or doubled provision stops the platform there, not on the first request."""

    def __init__(self, services: Services, provisions: Iterable[Provision[Any]]) -> None:
        self._services = services
        self._provisions: dict[Port[Any], list[Provision[Any]]] = {}
        for provision in provisions:
            self._provisions.setdefault(provision.port, []).append(provision)
        self._made: dict[Port[Any], Any] = {}

    def _make(self, port: Port[Any]) -> Any:
        if port not in self._made:
            offered = self._provisions.get(port, [])
            if not port.many and len(offered) != 1:
                names = ", ".join(p.domain or "?" for p in offered) or "none"
                raise PortNotProvided(f"{port!r} needs exactly one provider, has {names}")
            made = tuple(provision.factory(self._services) for provision in offered)
            self._made[port] = made if port.many else made[0]
            if port.check is not None:
                port.check(self._made[port])
        return self._made[port]

    def get(self, port: Port[T]) -> T:
        """The one implementation of a single port."""
        if port.many:
            raise TypeError(f"{port!r} has many implementations: use collect()")
        return self._make(port)  # type: ignore[no-any-return]

    def collect(self, port: Port[T]) -> tuple[T, ...]:
        """Every implementation of a many-port, in the order of the domains' list."""
        if not port.many:
            raise TypeError(f"{port!r} has one implementation: use get()")
        return self._make(port)  # type: ignore[no-any-return]

    def resolve_all(self) -> None:
        for port in self._provisions:
            self._make(port)


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    redis: Redis
    plugins: PluginHost
    # For URLs others gave the platform (webhook receivers): reaches public addresses and
    # MEDMARKET_OUTBOUND_ALLOWED_NETWORKS only (outbound.py).
    http: httpx.AsyncClient
    # Filled by the composition root (``open_platform``) right after the services open.
    ports: Ports = field(init=False, compare=False)

    def install(self, provisions: Iterable[Provision[Any]]) -> None:
        object.__setattr__(self, "ports", Ports(self, provisions))
        self.ports.resolve_all()


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
    settings: Settings, extra_plugins: Iterable[tuple[str, object]] = ()
) -> AsyncIterator[Services]:
    """The resources alone, with no ports installed (the composition root installs them)."""
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
        yield Services(settings=settings, db=db, redis=redis, plugins=plugins, http=http)
