"""What the doctors domain adds: applications and credential checks, operators' and
hospitals' decisions, and the daily re-verification with the hospitals."""

from __future__ import annotations

from medmarket.doctors import pages, reverification, review_pages, routes
from medmarket.domain import Domain
from medmarket.jobs import Job

DOMAIN = Domain(
    name="doctors",
    routes=routes.ROUTES,
    pages=[*pages.ROUTES, *review_pages.ROUTES],
    dependencies=routes.DEPENDENCIES,
    # Runs the day's re-verification once (whichever worker claims the day first) and, on the
    # polls between, resumes verifications whose process died.
    jobs=[Job("doctor re-verification", 600, reverification.tick)],
)
