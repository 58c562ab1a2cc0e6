"""What the pharmacies domain adds: partner pharmacies and their pharmacists' API, their
stock, prices and delivery areas, the operators' pharmacy pages and the pharmacists' stock
page, and the place invitations put pharmacists (accounts' staff places)."""

from __future__ import annotations

from medmarket.accounts.places import STAFF_PLACES
from medmarket.domain import Domain
from medmarket.pharmacies import pages, routes, stock_pages, stock_routes
from medmarket.pharmacies.members import PharmacistPlace
from medmarket.services import provide

DOMAIN = Domain(
    name="pharmacies",
    routes=[*routes.ROUTES, *stock_routes.ROUTES],
    pages=[*pages.ROUTES, *stock_pages.ROUTES],
    dependencies=routes.DEPENDENCIES | stock_routes.DEPENDENCIES,
    provides=[provide(STAFF_PLACES, lambda services: PharmacistPlace())],
)
