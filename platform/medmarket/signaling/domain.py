"""What the signaling domain adds: the WebSocket of each consultation's room, and the one hub
per app instance that relays it through Redis."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from redis.asyncio import Redis

from medmarket.domain import Domain
from medmarket.signaling import routes
from medmarket.signaling.hub import PRESENCE_OBSERVERS, SignalingHub
from medmarket.signaling.standing import ROOM_AUTHORITY


@asynccontextmanager
async def hub_lifespan(app: Litestar) -> AsyncIterator[None]:
    """One hub per instance: its reader and presence tasks live as long as the app. The
    server's loggers get the token redaction (once, whichever app of the process is first)."""
    for name in routes.SERVER_LOGGERS:
        logging.getLogger(name).addFilter(routes.REDACTION)
    services, settings = app.state.services, app.state.settings
    hub = SignalingHub(
        lambda: Redis.from_url(settings.redis_url, decode_responses=False),
        max_participants=settings.signaling_max_participants,
    )
    hub.presence_observers.extend(services.ports.collect(PRESENCE_OBSERVERS))
    app.state.room_authority = services.ports.get(ROOM_AUTHORITY)
    await hub.start()
    app.state.signaling = hub
    try:
        yield
    finally:
        await hub.stop()


DOMAIN = Domain(name="signaling", routes=routes.ROUTES, lifespans=[hub_lifespan])
