"""The app process is killed (SIGKILL) at each dangerous point, many times, while clients
keep retrying and send every request twice at once; localstripe sends webhooks into the
chaos. After reconciliation every payable has exactly one successful charge at the gateway
and in our books: none lost, none doubled.

The payables are held bookings: each paid booking must end confirmed, with exactly one
charge, heard of by the booking exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from medmarket.payments.reconcile import Reconciler
from medmarket.payments.service import Payments
from medmarket.settings import Settings
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.instances import process_environment
from medmarket.tests.support.payments import STRIPE_WEBHOOK_SECRET, LocalStripe, free_port
from medmarket.tests.support.seed import (
    PRIOR,
    Patient,
    approved_doctor,
    expect,
    free_slots,
    ready_patient,
)

pytestmark = pytest.mark.slow

CRASH_POINTS = [
    "payments.create.before_gateway_call",
    "payments.create.after_gateway_call",
    "payments.create.after_commit",
    "payments.confirm.before_gateway_call",
    "payments.confirm.after_gateway_call",
    "payments.confirm.after_commit",
]
KILLS_PER_POINT = 4
RETRYABLE = (httpx.TransportError,)


class CrashingServer:
    """``uvicorn`` running the app in a process of its own, started again whenever it dies."""

    def __init__(self, settings: Settings, failpoints: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.kills = 0
        self.env = {
            **process_environment(settings),
            "MEDMARKET_ENVIRONMENT": "test",
            "MEDMARKET_FAILPOINTS": failpoints,
            "MEDMARKET_DATABASE_POOL_MAX": "6",
        }
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def _spawn(self) -> asyncio.subprocess.Process:
        with self.log.open("ab") as output:
            return await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "uvicorn",
                "medmarket.app:create_app_from_environment",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
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
                raise AssertionError(f"the app exited with {code}; see {self.log}")

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise AssertionError(f"the app did not start; see {self.log}")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CrashingServer]:
        self._task = asyncio.create_task(self._supervise())
        await self.ready()
        try:
            yield self
        finally:
            self._stopping = True
            if self._process is not None and self._process.returncode is None:
                self._process.kill()
            await self._task


class HeldBookings:
    """Held bookings of one patient, one per free slot of a doctor, as payables."""

    def __init__(self, app: Litestar, patient: Patient, slots: list[dict[str, Any]]) -> None:
        self.app, self.patient, self.slots = app, patient, iter(slots)

    async def new(self) -> uuid.UUID:
        async with client_for(self.app) as http:
            booking = await expect(
                http.post(
                    "/api/bookings",
                    headers=self.patient.headers,
                    json={
                        "slot_id": next(self.slots)["id"],
                        "patient_id": self.patient.id,
                        "prior_diagnosis": PRIOR,
                    },
                ),
                201,
            )
        return uuid.UUID(booking["id"])


async def pay_until_paid(
    http: httpx.AsyncClient, patient: Patient, subject: uuid.UUID, *, patience: float = 300.0
) -> None:
    """A stubborn client: repeat everything until the payment succeeded, two at a time.

    Its patience is time, not a number of tries: while the app restarts after a kill (slow
    on a busy machine) every try fails at once, and a count would run out then."""
    start = {"purpose": "booking", "subject_id": str(subject)}
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


async def check_exactly_one_charge(
    app: Litestar, localstripe: LocalStripe, subjects: list[uuid.UUID]
) -> None:
    db = app.state.services.db
    intents = await localstripe.all("/v1/payment_intents")
    charges = await localstripe.all("/v1/charges")
    for subject in subjects:
        mine = [i for i in intents if i["metadata"].get("subject_id") == str(subject)]
        charged = [i for i in mine if i["status"] == "succeeded"]
        assert len(charged) == 1, (subject, [i["status"] for i in mine])
        # Any other intent a crash left behind is closed: it can never charge later.
        assert {i["status"] for i in mine} <= {"succeeded", "canceled"}, mine
        succeeded_charges = [
            c for c in charges if c["payment_intent"] == charged[0]["id"] and c["paid"]
        ]
        assert len(succeeded_charges) == 1
        rows = await db.fetch(
            "SELECT status, external_id, is_duplicate FROM payments WHERE subject_id = $1", subject
        )
        paid = [r for r in rows if r["status"] == "succeeded"]
        assert [(r["external_id"], r["is_duplicate"]) for r in paid] == [(charged[0]["id"], False)]
        assert all(r["status"] in ("succeeded", "canceled", "failed") for r in rows), rows
        booking = await db.fetchval("SELECT status FROM bookings WHERE id = $1", subject)
        assert booking == "confirmed"
        heard = await db.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'booking.confirmed' "
            "AND subject_id = $1",
            str(subject),
        )
        assert heard == 1  # the booking heard of the payment exactly once
        booked = await db.fetchval(
            "SELECT count(*) FROM ledger_transactions t JOIN payments p ON p.id = t.payment_id "
            "WHERE p.subject_id = $1 AND t.kind = 'charge'",
            subject,
        )
        assert booked == 1


@pytest.mark.timeout(900)
async def test_killing_the_app_at_every_crash_point_loses_and_doubles_nothing(
    app: Litestar,
    settings: Settings,
    localstripe: LocalStripe,
    tmp_path: Path,
) -> None:
    patient = await ready_patient(app)
    doctor = await approved_doctor(app, publish_days=7)
    async with client_for(app) as http:
        bookings = HeldBookings(app, patient, await free_slots(http, doctor.id))
    hook = f"crash-{uuid.uuid4().hex[:8]}"
    subjects: list[uuid.UUID] = []
    kills: dict[str, int] = {}
    try:
        for point in CRASH_POINTS:
            server = CrashingServer(settings, f"{point}=kill:0.5", tmp_path / f"{point}.log")
            async with server.running():
                # localstripe's webhooks race our own requests into the crashes.
                await localstripe.register_webhook(
                    hook, server.url + "/api/payments/webhooks/stripe", STRIPE_WEBHOOK_SECRET
                )
                async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                    for _ in range(12):  # batches until the point was hit often enough
                        batch = [await bookings.new() for _ in range(3)]
                        subjects.extend(batch)
                        await asyncio.gather(*(pay_until_paid(http, patient, s) for s in batch))
                        if server.kills >= KILLS_PER_POINT:
                            break
            kills[point] = server.kills

        # Charged, then killed before anything was written, and the client gives up:
        # only reconciliation can find these charges (no webhook either).
        await localstripe.register_webhook(hook, "http://127.0.0.1:9/", "whsec_unused")
        abandoned = [await bookings.new() for _ in range(3)]
        server = CrashingServer(
            settings, "payments.confirm.after_gateway_call=kill", tmp_path / "abandoned.log"
        )
        async with server.running(), httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            for subject in abandoned:
                start = {"purpose": "booking", "subject_id": str(subject)}
                payment = await http.post("/api/payments", json=start, headers=patient.headers)
                with contextlib.suppress(*RETRYABLE):
                    await http.post(
                        f"/api/payments/{payment.json()['id']}/confirm",
                        json={"payment_method": "pm_card_visa"},
                        headers=patient.headers,
                    )
                await server.ready()
        assert server.kills == len(abandoned)
        lost = await app.state.services.db.fetchval(
            "SELECT count(*) FROM payments WHERE subject_id = ANY($1) AND status = 'open'",
            abandoned,
        )
        assert lost == len(abandoned)  # charged at the gateway, not yet in our books
    finally:
        await localstripe.register_webhook(hook, "http://127.0.0.1:9/", "whsec_unused")

    await Reconciler(Payments(app.state.services)).run(grace_seconds=0)
    await check_exactly_one_charge(app, localstripe, subjects + abandoned)
    assert all(count >= KILLS_PER_POINT for count in kills.values()), kills
