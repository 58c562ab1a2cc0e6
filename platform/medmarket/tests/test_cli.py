"""The command line: plugins listed with their health, migrate and demo idempotent, serve
with several workers and its limits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn

from medmarket import cli
from medmarket.db import fetch_one
from medmarket.settings import Settings
from medmarket.signaling.messages import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES
from medmarket.tests.support.databases import create_database, drop_database
from medmarket.tests.support.instances import (
    free_port,
    process_environment,
    settings_environment,
    wait_until_healthy,
)


def run_cli(settings: Settings, *args: str, database_url: str | None = None) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url or settings.database_url,
        "REDIS_URL": settings.redis_url,
        "MEDMARKET_SECRET_KEY": settings.secret_key,
        "MEDMARKET_PASSWORD_TIME_COST": "1",
        "MEDMARKET_PASSWORD_MEMORY_KIB": "8192",
        "MEDMARKET_DATA_DIR": settings.data_dir,
    }
    result = subprocess.run(
        [sys.executable, "-m", "medmarket.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
async def fresh_database(server_dsn: str) -> AsyncIterator[str]:
    dsn = await create_database(server_dsn, prefix="mm_cli")
    yield dsn
    await drop_database(dsn)


def test_plugins_lists_the_built_ins_with_health(settings: Settings) -> None:
    output = run_cli(settings, "plugins")
    line = next(line for line in output.splitlines() if line.startswith("medmarket-notify-log"))
    assert "yes" in line and "notifier:log" in line
    assert "notifier:log: healthy" in output
    stripe = next(line for line in output.splitlines() if line.startswith("medmarket-payments"))
    assert "payment gateway:stripe" in stripe


async def test_migrate_and_demo_are_idempotent(settings: Settings, fresh_database: str) -> None:
    first = run_cli(settings, "migrate", database_url=fresh_database)
    assert "applied 0001_foundation" in first
    assert "migrations are current" in run_cli(settings, "migrate", database_url=fresh_database)
    run_cli(settings, "demo", database_url=fresh_database)
    connection = await asyncpg.connect(fresh_database)
    try:
        counts = await fetch_one(
            connection,
            "SELECT (SELECT count(*) FROM users) AS users, "
            "(SELECT count(*) FROM audit_events) AS events",
        )
        run_cli(settings, "demo", database_url=fresh_database)
        again = await fetch_one(
            connection,
            "SELECT (SELECT count(*) FROM users) AS users, "
            "(SELECT count(*) FROM audit_events) AS events",
        )
    finally:
        await connection.close()
    assert counts["users"] > 0
    assert dict(again) == dict(counts)


def test_serve_runs_the_marketplace_with_several_workers(settings: Settings) -> None:
    port = free_port()
    environ = process_environment(settings)
    command = [sys.executable, "-m", "medmarket.cli", "serve", "--workers", "2"]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(url, server, timeout=60)
            ready = httpx.get(url + "/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
            home = httpx.get(url + "/", headers={"accept": "text/html"}, timeout=10)
            assert home.status_code == 200 and "医联市场" in home.text
            children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
            commands = [Path(f"/proc/{child}/cmdline").read_bytes() for child in children.split()]
            workers = [c for c in commands if b"spawn_main" in c and b"resource_tracker" not in c]
            assert len(workers) == 2, commands  # under uvicorn's supervisor
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        log.seek(0)
        output = log.read().decode(errors="replace")
    assert server.returncode == 0, output
    assert "Traceback" not in output


def test_serve_caps_websocket_messages(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in settings_environment(settings).items():
        monkeypatch.setenv(name, value)
    served: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))
    args = cli.build_parser().parse_args(["serve", "--workers", "2"])
    assert args.func(args) == 0
    # Oversized signaling messages are refused by the server before they are buffered whole;
    # the application's own limit (answered with an error) sits below it.
    assert served["ws_max_size"] == MAX_FRAME_BYTES
    assert MAX_MESSAGE_BYTES < MAX_FRAME_BYTES <= 128 * 1024
    assert served["workers"] == 2


@pytest.mark.parametrize(("proxies", "recorded"), [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.7")])
async def test_serve_trusts_forwarded_addresses_only_from_named_proxies(
    settings: Settings, proxies: str, recorded: str
) -> None:
    """A local client sending X-Forwarded-For picks no address for the audit trail and the
    throttles unless 127.0.0.1 is named as a proxy (MEDMARKET_FORWARDED_ALLOW_IPS)."""
    port = free_port()
    environ = {**process_environment(settings), "MEDMARKET_FORWARDED_ALLOW_IPS": proxies}
    command = [sys.executable, "-m", "medmarket.cli", "serve", "--port", str(port)]
    email = f"xff-{os.urandom(4).hex()}@example.org"
    server = subprocess.Popen(
        command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, server, timeout=60)
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            refused = await http.post(
                "/api/tokens",
                json={"email": email, "password": "not-the-password"},
                headers={"X-Forwarded-For": "203.0.113.7"},
            )
        assert refused.status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
    connection = await asyncpg.connect(settings.database_url)
    try:
        seen = await connection.fetchval(
            "SELECT host(ip) FROM audit_events WHERE action = 'account.sign_in' "
            "AND detail->>'email' = $1",
            email,
        )
    finally:
        await connection.close()
    assert seen == recorded
