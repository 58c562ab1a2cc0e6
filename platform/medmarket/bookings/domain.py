"""What the bookings domain adds: holding and paying for a time, cancelling, outcomes; the
"booking" payment purpose; the job that releases lapsed holds; and, when a doctor is
suspended, flagging their future bookings."""

from __future__ import annotations

from collections.abc import Mapping

from medmarket.audit.service import SYSTEM
from medmarket.bookings import doctor_pages, pages, routes
from medmarket.bookings.listeners import BOOKING_LISTENERS
from medmarket.bookings.payments import BookingPayments
from medmarket.bookings.service import Bookings
from medmarket.bookings.suspensions import suspension_handler
from medmarket.doctors.events import DOCTOR_SUSPENDED
from medmarket.domain import Domain
from medmarket.jobs import Job
from medmarket.outbox.worker import Handler
from medmarket.payments.purposes import PAYMENT_PURPOSES
from medmarket.services import Services, provide


async def expire_booking_holds(services: Services) -> int:
    return await Bookings(services.db, services.settings.booking_hold_seconds).expire_holds(SYSTEM)


def outbox_handlers(services: Services) -> Mapping[str, Handler]:
    return {DOCTOR_SUSPENDED: suspension_handler(services.db)}


DOMAIN = Domain(
    name="bookings",
    routes=routes.ROUTES,
    pages=[*pages.ROUTES, *doctor_pages.ROUTES],
    dependencies=routes.DEPENDENCIES,
    outbox_handlers=outbox_handlers,
    jobs=[Job("expire booking holds", 15, expire_booking_holds)],
    provides=[
        provide(
            PAYMENT_PURPOSES,
            lambda services: BookingPayments(services.ports.collect(BOOKING_LISTENERS)),
        )
    ],
)
