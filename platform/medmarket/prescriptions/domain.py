"""What the prescriptions domain adds: writing, correcting and voiding e-prescriptions in a
consultation, the patient's health-record summary its doctor prescribes from, and the
prescription's exports (FHIR, the printable page and its PDF, the verification page); the
pharmacists' review desk (审方) every issued prescription is routed to; renewing a chronic
follow-up prescription without a call, paid as the "prescription_renewal" payment purpose,
with the job that expires (and refunds) what the doctor left unanswered."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.jobs import Job
from medmarket.payments.purposes import PAYMENT_PURPOSES
from medmarket.prescriptions import pages, review_pages, review_routes, routes, routing
from medmarket.prescriptions.renewals import expiry
from medmarket.prescriptions.renewals import routes as renewal_routes
from medmarket.prescriptions.renewals.payments import RenewalPayments
from medmarket.services import Services, provide


async def expire_renewals(services: Services) -> dict[str, int]:
    return await expiry.sweep(services.db)


DOMAIN = Domain(
    name="prescriptions",
    routes=[*routes.ROUTES, *review_routes.ROUTES, *renewal_routes.ROUTES],
    pages=[*pages.ROUTES, *review_pages.PAGES],
    dependencies={
        **routes.DEPENDENCIES,
        **review_routes.DEPENDENCIES,
        **renewal_routes.DEPENDENCIES,
    },
    jobs=[
        Job("route unrouted prescriptions", 60.0, routing.route_unrouted),
        Job("expire prescription renewals", 30, expire_renewals),
    ],
    provides=[
        provide(
            PAYMENT_PURPOSES,
            lambda services: RenewalPayments(services.settings.renewal_answer_hours),
        )
    ],
)
