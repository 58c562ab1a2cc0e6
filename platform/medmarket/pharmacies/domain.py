"""What the pharmacies domain adds: partner pharmacies and their pharmacists' API, the
operators' pharmacy pages, and the place invitations put pharmacists (accounts' staff
places)."""

from __future__ import annotations

from medmarket.accounts.places import STAFF_PLACES
from medmarket.domain import Domain
from medmarket.pharmacies import pages, routes
from medmarket.pharmacies.members import PharmacistPlace
from medmarket.services import provide

DOMAIN = Domain(
    name="pharmacies",
    routes=routes.ROUTES,
    pages=pages.ROUTES,
    dependencies=routes.DEPENDENCIES,
    provides=[provide(STAFF_PLACES, lambda services: PharmacistPlace())],
)
