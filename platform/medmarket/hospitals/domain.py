"""What the hospitals domain adds: partner hospitals, their admins and adapters."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.hospitals import pages, routes

DOMAIN = Domain(
    name="hospitals", routes=routes.ROUTES, pages=pages.ROUTES, dependencies=routes.DEPENDENCIES
)
