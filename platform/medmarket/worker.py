"""``medmarket worker``: delivers the outbox and runs the periodic jobs of every domain in
``domains.py``, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from medmarket.domain import Domain
from medmarket.domains import DOMAINS, jobs, open_platform, outbox_handlers
from medmarket.jobs import run_periodically
from medmarket.outbox.worker import OutboxWorker
from medmarket.settings import Settings

log = logging.getLogger("medmarket.worker")


async def run_worker(
    settings: Settings, domains: Sequence[Domain] = DOMAINS, stop: asyncio.Event | None = None
) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with open_platform(settings, domains) as services:
        worker = OutboxWorker(
            services.db,
            outbox_handlers(domains, services),
            lease_seconds=settings.outbox_lease_seconds,
            max_attempts=settings.outbox_max_attempts,
        )
        periodic = jobs(domains)
        log.info("worker started: outbox and %s", ", ".join(job.name for job in periodic))
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(worker.run_forever(settings.outbox_poll_seconds, stop))
            for job in periodic:
                tasks.create_task(run_periodically(services, job, stop))
