"""What the patients domain adds: people and family members, consent, health records."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.patients import health_pages, pages, routes

DOMAIN = Domain(
    name="patients",
    routes=routes.ROUTES,
    pages=[*pages.ROUTES, *health_pages.ROUTES],
    dependencies=routes.DEPENDENCIES,
)
