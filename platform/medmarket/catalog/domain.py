"""What the catalog domain adds: the storefront's search and doctors' public pages."""

from __future__ import annotations

from medmarket.catalog import pages, routes
from medmarket.domain import Domain

DOMAIN = Domain(name="catalog", routes=routes.ROUTES, pages=pages.ROUTES)
