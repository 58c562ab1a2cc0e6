"""What the drugs domain adds: the drug catalog's API and the operators' catalog pages."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.drugs import pages, routes

DOMAIN = Domain(
    name="drugs", routes=routes.ROUTES, pages=pages.ROUTES, dependencies=routes.DEPENDENCIES
)
