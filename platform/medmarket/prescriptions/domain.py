"""What the prescriptions domain adds: writing, correcting and voiding e-prescriptions in a
consultation, the patient's health-record summary its doctor prescribes from, and the
pharmacists' review desk (审方) every issued prescription is routed to."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.jobs import Job
from medmarket.prescriptions import review_pages, review_routes, routes, routing

DOMAIN = Domain(
    name="prescriptions",
    routes=[*routes.ROUTES, *review_routes.ROUTES],
    pages=review_pages.PAGES,
    dependencies={**routes.DEPENDENCIES, **review_routes.DEPENDENCIES},
    jobs=[Job("route unrouted prescriptions", 60.0, routing.route_unrouted)],
)
