"""Periodic housekeeping the worker runs beside the outbox (each domain declares its own in
its ``domain.py``). Each job is idempotent, so several workers may run it at once without
harm."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from medmarket.services import Services
from medmarket.settings import Settings

log = logging.getLogger("medmarket.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    # Seconds between runs, or how to read them from the settings.
    every: float | Callable[[Settings], float]
    run: Callable[[Services], Awaitable[object]]

    def every_seconds(self, settings: Settings) -> float:
        return self.every(settings) if callable(self.every) else self.every


async def run_periodically(services: Services, job: Job, stop: asyncio.Event) -> None:
    interval = job.every_seconds(services.settings)
    while not stop.is_set():
        try:
            result = await job.run(services)
            if result:
                log.info("%s: %s", job.name, result)
        except Exception:
            log.exception("job %r failed; it runs again in %ss", job.name, interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
