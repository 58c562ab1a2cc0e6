"""What the video domain adds: call setup (ICE servers, media profile, network QoS) through
the consultation's video provider, and each instance's sweeper of QoS sessions."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.video import routes

DOMAIN = Domain(
    name="video",
    routes=routes.ROUTES,
    dependencies=routes.DEPENDENCIES,
    lifespans=[routes.lifespan],
)
