"""What the scheduling domain adds: doctors' offerings, availability and slots."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.scheduling import pages, routes

DOMAIN = Domain(
    name="scheduling", routes=routes.ROUTES, pages=pages.ROUTES, dependencies=routes.DEPENDENCIES
)
