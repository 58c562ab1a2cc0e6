"""The one list of the platform's domains, and the platform they make together.

The composition root: ``app.py`` (the web app), ``worker.py`` (outbox and jobs) and
``cli.py`` read ``DOMAINS`` and nothing else to know what the platform does. Lower domains
first: a domain's lifespan may use what an earlier one set up (signaling's hub before
video's calls).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager

from litestar.di import Provide

from medmarket.accounts.domain import DOMAIN as ACCOUNTS
from medmarket.audit.domain import DOMAIN as AUDIT
from medmarket.bookings.domain import DOMAIN as BOOKINGS
from medmarket.catalog.domain import DOMAIN as CATALOG
from medmarket.consults.domain import DOMAIN as CONSULTS
from medmarket.delivery.domain import DOMAIN as DELIVERY
from medmarket.doctors.domain import DOMAIN as DOCTORS
from medmarket.domain import Domain
from medmarket.drugs.domain import DOMAIN as DRUGS
from medmarket.hospitals.domain import DOMAIN as HOSPITALS
from medmarket.jobs import Job
from medmarket.ledger.domain import DOMAIN as LEDGER
from medmarket.notifications.domain import DOMAIN as NOTIFICATIONS
from medmarket.ops.domain import DOMAIN as OPS
from medmarket.orders.domain import DOMAIN as ORDERS
from medmarket.outbox.domain import DOMAIN as OUTBOX
from medmarket.outbox.worker import Handler
from medmarket.pages.domain import DOMAIN as PAGES
from medmarket.patients.domain import DOMAIN as PATIENTS
from medmarket.payments.domain import DOMAIN as PAYMENTS
from medmarket.pharmacies.domain import DOMAIN as PHARMACIES
from medmarket.prescriptions.domain import DOMAIN as PRESCRIPTIONS
from medmarket.readings.domain import DOMAIN as READINGS
from medmarket.referrals.domain import DOMAIN as REFERRALS
from medmarket.remote_consults.domain import DOMAIN as REMOTE_CONSULTS
from medmarket.reviews.domain import DOMAIN as REVIEWS
from medmarket.scheduling.domain import DOMAIN as SCHEDULING
from medmarket.services import Services, open_services
from medmarket.settings import Settings
from medmarket.signaling.domain import DOMAIN as SIGNALING
from medmarket.video.domain import DOMAIN as VIDEO

DOMAINS: list[Domain] = [
    OUTBOX,
    NOTIFICATIONS,
    ACCOUNTS,
    AUDIT,
    PAYMENTS,
    LEDGER,
    HOSPITALS,
    DOCTORS,
    PATIENTS,
    SCHEDULING,
    CATALOG,
    DRUGS,
    PHARMACIES,
    DELIVERY,
    BOOKINGS,
    REVIEWS,
    SIGNALING,
    VIDEO,
    CONSULTS,
    PRESCRIPTIONS,
    ORDERS,
    REFERRALS,
    REMOTE_CONSULTS,
    READINGS,
    OPS,
    PAGES,
]


def dependencies(domains: Sequence[Domain]) -> dict[str, Provide]:
    provided: dict[str, Provide] = {}
    owners: dict[str, str] = {}
    for domain in domains:
        for name, provider in domain.dependencies.items():
            if name in provided:
                raise RuntimeError(
                    f"the dependency {name!r} is provided by both {owners[name]} and {domain.name}"
                )
            provided[name], owners[name] = provider, domain.name
    return provided


def outbox_handlers(domains: Sequence[Domain], services: Services) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    owners: dict[str, str] = {}
    for domain in domains:
        offered: Mapping[str, Handler] = (
            domain.outbox_handlers(services) if domain.outbox_handlers else {}
        )
        for topic, handler in offered.items():
            if topic in handlers:
                raise RuntimeError(
                    f"the outbox topic {topic!r} is handled by both {owners[topic]} and "
                    f"{domain.name}"
                )
            handlers[topic], owners[topic] = handler, domain.name
    return handlers


def jobs(domains: Sequence[Domain]) -> list[Job]:
    return [job for domain in domains for job in domain.jobs]


@asynccontextmanager
async def open_platform(
    settings: Settings,
    domains: Sequence[Domain] = DOMAINS,
    *,
    extra_plugins: Iterable[tuple[str, object]] = (),
) -> AsyncIterator[Services]:
    """The services with every domain's provisions installed in their ports."""
    async with open_services(settings, extra_plugins) as services:
        services.install(
            dataclasses.replace(provision, domain=domain.name)
            for domain in domains
            for provision in domain.provides
        )
        yield services
