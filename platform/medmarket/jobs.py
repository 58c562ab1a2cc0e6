"""Periodic housekeeping the worker runs beside the outbox. Each job is idempotent, so
several workers may run it at once without harm."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from medmarket.audit.service import SYSTEM
from medmarket.bookings.service import Bookings
from medmarket.consults.presence import flag_doctor_no_shows
from medmarket.doctors import reverification
from medmarket.payments.tasks import reconcile
from medmarket.services import Services
from medmarket.settings import Settings

log = logging.getLogger("medmarket.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Services], Awaitable[object]]


async def expire_booking_holds(services: Services) -> int:
    return await Bookings(services.db, services.settings.booking_hold_seconds).expire_holds(SYSTEM)


def periodic_jobs(settings: Settings) -> list[Job]:
    return [
        Job("expire booking holds", 15, expire_booking_holds),
        # Runs the day's re-verification once (whichever worker claims the day first) and, on
        # the polls between, resumes verifications whose process died.
        Job("doctor re-verification", 600, reverification.tick),
        Job("reconcile payments", settings.payment_reconcile_interval_seconds, reconcile),
        # A doctor who never joined by the slot's end plus the grace: full refund, patient told.
        Job("consultation doctor no-shows", 60, flag_doctor_no_shows),
    ]


async def run_periodically(services: Services, job: Job, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            result = await job.run(services)
            if result:
                log.info("%s: %s", job.name, result)
        except Exception:
            log.exception("job %r failed; it runs again in %ss", job.name, job.every_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=job.every_seconds)
