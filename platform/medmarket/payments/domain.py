"""What the payments domain adds: paying and refunding through the gateways, their webhooks,
the outbox topics that send refunds and close attempts, and periodic reconciliation."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.jobs import Job
from medmarket.payments import routes
from medmarket.payments.tasks import payment_handlers, reconcile

DOMAIN = Domain(
    name="payments",
    routes=routes.ROUTES,
    dependencies=routes.DEPENDENCIES,
    outbox_handlers=payment_handlers,
    jobs=[
        Job(
            "reconcile payments",
            lambda settings: settings.payment_reconcile_interval_seconds,
            reconcile,
        )
    ],
)
