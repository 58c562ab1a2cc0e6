"""What the patients domain adds: people and family members, consent, health records and
the address book."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.patients import address_pages, address_routes, health_pages, pages, routes

DOMAIN = Domain(
    name="patients",
    routes=[*routes.ROUTES, *address_routes.ROUTES],
    pages=[*pages.ROUTES, *health_pages.ROUTES, *address_pages.ROUTES],
    dependencies={**routes.DEPENDENCIES, **address_routes.DEPENDENCIES},
)
