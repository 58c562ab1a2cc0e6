"""What the reviews domain adds: patients' reviews of visits and doctors' replies."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.reviews import pages, routes

DOMAIN = Domain(
    name="reviews", routes=routes.ROUTES, pages=pages.ROUTES, dependencies=routes.DEPENDENCIES
)
