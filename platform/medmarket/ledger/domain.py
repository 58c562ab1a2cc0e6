"""What the ledger domain adds: settlement statements and hospitals' agreements."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.ledger import pages, routes

DOMAIN = Domain(
    name="ledger", routes=routes.ROUTES, pages=pages.ROUTES, dependencies=routes.DEPENDENCIES
)
