"""What the audit domain adds to the platform: the operators' view of the trail."""

from __future__ import annotations

from medmarket.audit import routes
from medmarket.domain import Domain

DOMAIN = Domain(name="audit", routes=routes.ROUTES)
