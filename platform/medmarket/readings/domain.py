"""What the readings domain adds: remote reading (远程影像 / 心电 / 病理): partner hospitals'
reading centres and their readers, studies sent by doctors for a written report, the
centre's queue, claims, signed reports and turnaround."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.readings import routes

DOMAIN = Domain(name="readings", routes=routes.ROUTES, dependencies=routes.DEPENDENCIES)
