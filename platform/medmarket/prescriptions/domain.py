"""What the prescriptions domain adds: writing, correcting and voiding e-prescriptions in a
consultation, and the patient's health-record summary its doctor prescribes from."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.prescriptions import routes

DOMAIN = Domain(name="prescriptions", routes=routes.ROUTES, dependencies=routes.DEPENDENCIES)
