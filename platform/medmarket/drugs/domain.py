"""What the drugs domain adds: the drug catalog's API."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.drugs import routes

DOMAIN = Domain(name="drugs", routes=routes.ROUTES, dependencies=routes.DEPENDENCIES)
