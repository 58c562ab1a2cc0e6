"""What the hospitals domain adds: partner hospitals, their admins and adapters; invitations
place hospital admins at their hospital (accounts' staff places)."""

from __future__ import annotations

from medmarket.accounts.places import STAFF_PLACES
from medmarket.domain import Domain
from medmarket.hospitals import pages, routes
from medmarket.hospitals.staff import HospitalAdmins
from medmarket.services import provide

DOMAIN = Domain(
    name="hospitals",
    routes=routes.ROUTES,
    pages=pages.ROUTES,
    dependencies=routes.DEPENDENCIES,
    provides=[provide(STAFF_PLACES, lambda services: HospitalAdmins())],
)
