"""What the delivery domain adds: couriers' call-backs, dispatching deliveries from the
outbox (``delivery.dispatch``, ``delivery.cancel``), and the job that asks couriers where
their parcels are. What is delivered is its purpose's business (``listeners``)."""

from __future__ import annotations

from medmarket.delivery import routes
from medmarket.delivery.service import delivery_handlers, poll_deliveries
from medmarket.domain import Domain
from medmarket.jobs import Job

DOMAIN = Domain(
    name="delivery",
    routes=routes.ROUTES,
    dependencies=routes.DEPENDENCIES,
    outbox_handlers=delivery_handlers,
    jobs=[Job("track deliveries", 60.0, poll_deliveries)],
)
