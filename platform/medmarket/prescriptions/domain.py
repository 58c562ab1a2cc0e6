"""What the prescriptions domain adds: writing, correcting and voiding e-prescriptions in a
consultation, the patient's health-record summary its doctor prescribes from, and the
prescription's exports (FHIR, the printable page and its PDF, the verification page)."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.prescriptions import pages, routes

DOMAIN = Domain(
    name="prescriptions",
    routes=routes.ROUTES,
    pages=pages.ROUTES,
    dependencies=routes.DEPENDENCIES,
)
