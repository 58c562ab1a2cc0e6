"""The OpenAPI document tells the truth. schemathesis runs all of its checks against
``/schema/openapi.json`` of the app served by uvicorn on the demo data, anonymously and with
a bearer token of each role, and finds no server error, no undocumented status code or
media type, no schema-valid request refused as unreadable, no invalid one accepted, and
nothing its auth checks object to (the document declares its securitySchemes).

Beside the demo data, the demo patient has two paid visits with the demo doctor, one of them
in progress, so consultations, chat, notes, payments and refunds have records to be found.

The budget is bounded: a few examples per operation, each run stopped after RUN_SECONDS
(fuzzing and stateful testing fill what is left of it), two runs at a time. The served app has
a database and a Redis of its own, so what the fuzzing leaves behind (thousands of failed
sign-ins, new accounts, hospitals, invitations) never reaches the rest of the suite.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from medmarket.app import create_app
from medmarket.db.migrate import migrate
from medmarket.demo import DEMO_PASSWORD, seed_demo
from medmarket.settings import Settings
from medmarket.tests.support.databases import create_database, drop_database
from medmarket.tests.support.fixtures import Account, client_for, make_settings, running
from medmarket.tests.support.instances import app_instances
from medmarket.tests.support.payments import stripe_settings
from medmarket.tests.support.redis_server import private_redis
from medmarket.tests.support.seed import Doctor, Patient, admit, begin_visit, free_slots, hold, pay

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = {
    "patient": "patient@demo.medmarket.cn",
    "doctor": "doctor@demo.medmarket.cn",
    "pharmacist": "pharmacist@demo.medmarket.cn",
    "hospital_admin": "admin.hangzhou@demo.medmarket.cn",
    "operator": "operator@demo.medmarket.cn",
}
MAX_EXAMPLES = 5
RUN_SECONDS = 40
PARALLEL_RUNS = 2
# Past RUN_SECONDS, how long a run may take to report before it counts as hung.
GRACE_SECONDS = 90
REPORT_LIMIT = 6000  # characters of each failing run's report in the test's message


@dataclass
class Caller:
    name: str
    token: str | None = None  # None: anonymous
    spare_token: str | None = None  # for signing out, which ends the token it is sent with


@pytest.fixture(scope="module")
def demo_redis() -> Iterator[str]:
    with private_redis() as url:
        yield url


@pytest.fixture(scope="module")
async def demo_settings(
    server_dsn: str,
    localstripe_url: str,
    demo_redis: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Settings]:
    """A database of its own with the demo data, and a Redis of its own."""
    dsn = await create_database(server_dsn, prefix="mm_contract")
    try:
        await migrate(dsn)
        settings = make_settings(
            dsn,
            redis_url=demo_redis,
            data_dir=str(tmp_path_factory.mktemp("contract-data")),
            **stripe_settings(localstripe_url),
        )
        await seed_demo(settings)
        await seed_visits(settings)
        yield settings
    finally:
        await drop_database(dsn)


async def seed_visits(settings: Settings) -> None:
    """Two paid visits of the demo patient with the demo doctor: tomorrow, and now (the
    patient admitted)."""
    application = create_app(settings)
    async with running(application), client_for(application) as http:
        accounts = {}
        for role in ("patient", "doctor"):
            response = await http.post(
                "/api/tokens", json={"email": ROLES[role], "password": DEMO_PASSWORD}
            )
            assert response.status_code == 201, response.text
            body = response.json()
            accounts[role] = Account(
                body["user"]["id"], ROLES[role], role, DEMO_PASSWORD, body["token"]
            )
        me = await http.get("/api/patients/me", headers=accounts["patient"].headers)
        patient = Patient(accounts["patient"], me.json()["me"]["id"])
        mine = await http.get("/api/doctor/application", headers=accounts["doctor"].headers)
        doctor = Doctor(accounts["doctor"], mine.json()["id"], mine.json()["hospital"]["id"])
        slots = await free_slots(http, doctor.id, after=dt.timedelta(days=1))
        bookings = [await hold(http, patient, slot["id"]) for slot in slots[:2]]
        for booking in bookings:
            await pay(application, patient, booking["id"])
        await begin_visit(application, bookings[1]["id"])
        await admit(application, patient, doctor, bookings[1]["id"])


def _token(url: str, email: str) -> str:
    response = httpx.post(
        f"{url}/api/tokens", json={"email": email, "password": DEMO_PASSWORD}, timeout=30
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def _config(caller: Caller, folder: Path) -> Path:
    text = CONFIG.read_text()
    if caller.token is not None:
        text += (
            '\n[[operations]]\ninclude-name = "DELETE /api/session"\n'
            f'headers = {{ Authorization = "Bearer {caller.spare_token}" }}\n'
            f'\n[auth.openapi.bearer]\nbearer = "{caller.token}"\n'
        )
    path = folder / f"schemathesis-{caller.name}.toml"
    path.write_text(text)
    return path


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is not installed (the test extra of pyproject.toml)"
    return found


def run_schemathesis(url: str, caller: Caller, folder: Path) -> str | None:
    """One run for one caller; None when it found nothing, else what it reported."""
    command = [
        _schemathesis(),
        "--config-file",
        str(_config(caller, folder)),
        "run",
        f"{url}/schema/openapi.json",
        f"--max-examples={MAX_EXAMPLES}",
        f"--max-time={RUN_SECONDS}",
        # One worker: Python 3.11's ast.parse is not thread-safe, and hypothesis parses the
        # source of schemathesis's filters while two workers draw.
        "--workers=1",
        "--request-timeout=20",
        "--generation-database=none",
        "--no-color",
    ]
    try:
        finished = subprocess.run(
            command,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS + GRACE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return f"{caller.name}: schemathesis did not report within the budget\n{exc.stdout!r}"
    report = finished.stdout + finished.stderr
    tested = re.search(r"Selected: (\d+)/\d+\s+Tested: (\d+)", report)
    every_operation = tested is not None and tested[1] == tested[2]
    if finished.returncode == 0 and every_operation:
        return None
    untested = "" if every_operation else "not every selected operation was tested\n"
    return f"{caller.name} (exit {finished.returncode}): {untested}{_findings(report)}"


def _findings(report: str) -> str:
    """The report's errors and failures, and its summary."""

    def line_of(mark: str, after: int = 0) -> int:
        found = report.find(mark, after)
        return report.rfind("\n", 0, found) + 1 if found >= 0 else -1

    marks = [line_of(mark) for mark in ("= ERRORS =", "= FAILURES =")]
    start = min((mark for mark in marks if mark >= 0), default=0)
    end = line_of("= WARNINGS =", start)
    summary = line_of("= SUMMARY =")
    found = report[start : end if end > start else None][:REPORT_LIMIT]
    return found + (report[summary:] if summary > start else "")


def run_contract(settings: Settings, folder: Path) -> list[str]:
    with app_instances(settings, 1) as [instance]:
        url = instance.url
        callers = [Caller("anonymous")] + [
            Caller(role, _token(url, email), _token(url, email)) for role, email in ROLES.items()
        ]
        with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
            reports = list(pool.map(lambda caller: run_schemathesis(url, caller, folder), callers))
        problems = [report for report in reports if report is not None]
        if problems:
            problems.append(f"the server's log ends:\n{instance.log()}")
    return problems


async def test_schemathesis_finds_the_api_as_documented(
    demo_settings: Settings, tmp_path: Path
) -> None:
    problems = await asyncio.to_thread(run_contract, demo_settings, tmp_path)
    assert not problems, "\n\n".join(problems)
