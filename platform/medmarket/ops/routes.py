"""``/healthz`` (the process answers), ``/readyz`` (it can serve: PostgreSQL and Redis answer,
migrations are current) and the operators' view of installed plugins."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, Response, Router, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from medmarket.accounts.guards import PUBLIC, allow
from medmarket.db.migrate import available_migrations
from medmarket.health import HealthReport
from medmarket.plugin_manager import BreakerState, PluginInfo
from medmarket.services import Services

READY_TIMEOUT = 2.0


class Readiness(msgspec.Struct):
    ready: bool
    checks: dict[str, HealthReport]


class PluginStatus(msgspec.Struct):
    plugins: list[PluginInfo]
    adapters: dict[str, HealthReport]
    # This instance's breakers (each instance keeps its own).
    breakers: list[BreakerState]


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


async def _check_database(services: Services) -> HealthReport:
    expected = max((m.version for m in available_migrations()), default=0)
    current = await services.db.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
    if current < expected:
        return HealthReport(healthy=False, detail=f"migrations at {current}, need {expected}")
    return HealthReport(healthy=True, detail=f"migrations at {current}")


async def _check_redis(services: Services) -> HealthReport:
    await services.redis.ping()
    return HealthReport(healthy=True)


async def _guarded(probe: Any, services: Services) -> HealthReport:
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            return await probe(services)  # type: ignore[no-any-return]
    except Exception as exc:
        return HealthReport(healthy=False, detail=f"{type(exc).__name__}: {exc}"[:200])


@get("/readyz")
async def readyz(request: Request[Any, Any, Any]) -> Response[Readiness]:
    services: Services = request.app.state.services
    database, redis = await asyncio.gather(
        _guarded(_check_database, services), _guarded(_check_redis, services)
    )
    checks = {"postgresql": database, "redis": redis}
    ready = all(check.healthy for check in checks.values())
    return Response(
        Readiness(ready=ready, checks=checks),
        status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
    )


@get("/")
async def plugin_status(request: Request[Any, Any, Any]) -> PluginStatus:
    """What is installed, enabled and healthy (each adapter asked behind a timeout), and the
    circuit breakers of this instance."""
    services: Services = request.app.state.services
    adapters = await services.plugins.health()
    return PluginStatus(
        plugins=services.plugins.describe(),
        adapters=adapters,
        breakers=services.plugins.breakers(),
    )


ROUTES = [
    Router(
        path="/",
        tags=["ops"],
        route_handlers=[
            Router(path="/", opt=PUBLIC, route_handlers=[healthz, readyz]),
            Router(
                path="/api/operator/plugins", opt=allow("operator"), route_handlers=[plugin_status]
            ),
        ],
    )
]
