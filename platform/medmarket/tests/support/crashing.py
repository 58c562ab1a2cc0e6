"""Processes that crash on purpose, for the crash tests: the app (``CrashingServer``) and the
worker (``CrashingWorker``), each in a process of its own with ``MEDMARKET_FAILPOINTS`` set,
started again whenever a failpoint SIGKILLs it (any other exit fails the test); and a client
that keeps paying through the crashes (``pay_until_paid``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Self

import httpx

from medmarket.settings import Settings
from medmarket.tests.support.instances import process_environment
from medmarket.tests.support.payments import free_port
from medmarket.tests.support.seed import Patient

# What a client sees while the app is dead or restarting: it tries again.
RETRYABLE = (httpx.TransportError,)


class CrashingProcess:
    """``python -m <arguments>`` with ``settings`` and ``failpoints``, started again whenever
    it is SIGKILLed (``kills`` counts how often), until ``running()`` ends."""

    name = "process"

    def __init__(
        self,
        settings: Settings,
        failpoints: str,
        log: Path,
        *,
        extra_environment: Mapping[str, str] | None = None,
    ) -> None:
        self.log = log
        self.kills = 0
        self.env = {
            **process_environment(settings),
            "MEDMARKET_ENVIRONMENT": "test",
            "MEDMARKET_FAILPOINTS": failpoints,
            "MEDMARKET_DATABASE_POOL_MAX": "6",
            **(extra_environment or {}),
        }
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def arguments(self) -> Sequence[str]:
        raise NotImplementedError

    async def _spawn(self) -> asyncio.subprocess.Process:
        with self.log.open("ab") as output:
            return await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                *self.arguments(),
                env=self.env,
                stdout=output,
                stderr=output,
            )

    async def _supervise(self) -> None:
        while not self._stopping:
            self._process = await self._spawn()
            code = await self._process.wait()
            if code == -signal.SIGKILL and not self._stopping:
                self.kills += 1
            elif not self._stopping:
                raise AssertionError(f"the {self.name} exited with {code}; see {self.log}")

    async def ready(self) -> None:
        """Return once the process is up (at once, unless it can tell)."""

    def check(self) -> None:
        """Raise what stopped the supervision (an exit that was not a kill), if it stopped."""
        if self._task is not None and self._task.done():
            self._task.result()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Self]:
        self._task = asyncio.create_task(self._supervise())
        await self.ready()
        try:
            yield self
        finally:
            self._stopping = True
            if self._process is not None and self._process.returncode is None:
                self._process.kill()
            await self._task


class CrashingServer(CrashingProcess):
    """``uvicorn`` running the app on a free port of 127.0.0.1."""

    name = "app"

    def __init__(
        self,
        settings: Settings,
        failpoints: str,
        log: Path,
        *,
        extra_environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(settings, failpoints, log, extra_environment=extra_environment)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def arguments(self) -> Sequence[str]:
        return [
            "uvicorn",
            "medmarket.app:create_app_from_environment",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise AssertionError(f"the app did not start; see {self.log}")


class CrashingWorker(CrashingProcess):
    """``medmarket worker``: the outbox and the periodic jobs."""

    name = "worker"

    def arguments(self) -> Sequence[str]:
        return ["medmarket.cli", "worker"]


async def pay_until_paid(
    http: httpx.AsyncClient,
    patient: Patient,
    subject: uuid.UUID,
    *,
    purpose: str = "booking",
    patience: float = 300.0,
) -> None:
    """A stubborn client: repeat everything until the payment succeeded, two at a time.

    Its patience is time, not a number of tries: while the app restarts after a kill (slow
    on a busy machine) every try fails at once, and a count would run out then."""
    start = {"purpose": purpose, "subject_id": str(subject)}
    deadline = time.monotonic() + patience
    seen: list[str] = []  # what the app last answered, for the message if it never pays
    while time.monotonic() < deadline:
        try:
            answers = await asyncio.gather(
                *(http.post("/api/payments", json=start, headers=patient.headers) for _ in "ab"),
                return_exceptions=True,
            )
            responses = [a for a in answers if isinstance(a, httpx.Response)]
            seen = [f"{r.status_code} {r.text[:200]}" for r in responses]
            if any(r.status_code == 409 and "already-paid" in r.text for r in responses):
                return
            usable = [r.json()["id"] for r in responses if r.status_code in (200, 201)]
            assert len(set(usable)) <= 1, "two attempts in flight for one payable"
            if usable:
                path = f"/api/payments/{usable[0]}/confirm"
                confirms = await asyncio.gather(
                    *(
                        http.post(
                            path, json={"payment_method": "pm_card_visa"}, headers=patient.headers
                        )
                        for _ in "ab"
                    ),
                    return_exceptions=True,
                )
                seen = [
                    f"{c.status_code} {c.text[:200]}" if isinstance(c, httpx.Response) else repr(c)
                    for c in confirms
                ]
                statuses = {
                    c.json()["status"]
                    for c in confirms
                    if isinstance(c, httpx.Response) and c.status_code == 200
                }
                assert "failed" not in statuses, "a good card was declined"
                if "succeeded" in statuses:
                    return
        except RETRYABLE:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"payable {subject} was never paid; last answers: {seen}")
