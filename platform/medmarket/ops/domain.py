"""What the operations domain adds: health and readiness, plugin status, the dashboard."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.ops import pages, routes

DOMAIN = Domain(name="ops", routes=routes.ROUTES, pages=pages.ROUTES)
