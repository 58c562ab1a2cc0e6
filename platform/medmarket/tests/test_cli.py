"""The command line: plugins listed with their health, migrate and demo idempotent, serve
with several workers and its limits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from litestar import Litestar

from medmarket import cli, signatures
from medmarket.audit.service import SYSTEM
from medmarket.db import fetch_one
from medmarket.doctors import signing_keys
from medmarket.sealed import Sealer
from medmarket.settings import Settings
from medmarket.signaling.messages import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES
from medmarket.tests.support.databases import create_database, drop_database
from medmarket.tests.support.factories import DoctorAccount, approved_doctor
from medmarket.tests.support.instances import (
    free_port,
    process_environment,
    settings_environment,
    wait_until_healthy,
)


def cli_environment(settings: Settings, database_url: str | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url or settings.database_url,
        "REDIS_URL": settings.redis_url,
        "MEDMARKET_SECRET_KEY": settings.secret_key,
        "MEDMARKET_PASSWORD_TIME_COST": "1",
        "MEDMARKET_PASSWORD_MEMORY_KIB": "8192",
        "MEDMARKET_DATA_DIR": settings.data_dir,
    }


def cli_result(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medmarket.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_cli(settings: Settings, *args: str, database_url: str | None = None) -> str:
    result = cli_result(cli_environment(settings, database_url), *args)
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


# -- verify-signature ---------------------------------------------------------------------------
async def signed_prescription(app: Litestar, tmp_path: Path) -> tuple[DoctorAccount, Path]:
    doctor = await approved_doctor(app, full_name="华佗")
    async with app.state.services.db.transaction() as connection:
        envelope = await signing_keys.sign_for_doctor(
            connection,
            uuid.UUID(doctor.doctor_id),
            {"drug": "阿司匹林肠溶片", "dose": "100 mg", "days": 30},
            sealer=Sealer(app.state.settings.secret_key),
            context=SYSTEM,
        )
    path = tmp_path / "prescription.json"
    path.write_bytes(signatures.encode(envelope))
    return doctor, path


def tampered_copy(path: Path, **document: Any) -> Path:
    envelope = json.loads(path.read_text(encoding="utf-8"))
    envelope["document"].update(document)
    changed = path.with_name("tampered.json")
    changed.write_text(json.dumps(envelope, ensure_ascii=False), encoding="utf-8")
    return changed


async def test_verify_signature_checks_an_envelope_against_the_doctors_keys(
    app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    doctor, path = await signed_prescription(app, tmp_path)
    env = cli_environment(settings)
    valid = cli_result(env, "verify-signature", str(path))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert valid.stdout.startswith("valid:") and "华佗" in valid.stdout
    assert doctor.doctor_id in valid.stdout
    tampered = cli_result(env, "verify-signature", str(tampered_copy(path, dose="1000 mg")))
    assert tampered.returncode == 1
    assert tampered.stdout.startswith("invalid: bad-signature")
    stranger = signatures.signed({"drug": "阿司匹林肠溶片"}, signatures.generate_keypair())
    unknown = tmp_path / "unknown.json"
    unknown.write_bytes(signatures.encode(stranger))
    answer = cli_result(env, "verify-signature", str(unknown))
    assert answer.returncode == 1 and answer.stdout.startswith("invalid: unknown-key")
    floats = cli_result(env, "verify-signature", str(tampered_copy(path, dose=0.1)))
    assert floats.returncode == 1 and "document.dose" in floats.stdout
    assert "Traceback" not in floats.stderr + answer.stderr + tampered.stderr


async def test_verify_signature_works_offline_with_a_public_key(
    app: Litestar, tmp_path: Path
) -> None:
    _, path = await signed_prescription(app, tmp_path)
    key_id = json.loads(path.read_text(encoding="utf-8"))["key_id"]
    public_key = await app.state.services.db.fetchval(
        "SELECT public_key FROM doctor_signing_keys WHERE key_id = $1", key_id
    )
    pem = tmp_path / "key.pem"
    pem.write_text(signatures.public_key_pem(bytes(public_key)), encoding="ascii")
    # No database, no settings: what a pharmacy has.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "MEDMARKET_"))}
    for key in (signatures.b64url(bytes(public_key)), str(pem)):
        result = cli_result(env, "verify-signature", str(path), "--public-key", key)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith(f"valid: signed with key {key_id}")
    tampered = cli_result(
        env, "verify-signature", str(tampered_copy(path, days=90)), "--public-key", str(pem)
    )
    assert tampered.returncode == 1 and tampered.stdout.startswith("invalid: bad-signature")
    other = signatures.b64url(signatures.generate_keypair().public_key)
    wrong_key = cli_result(env, "verify-signature", str(path), "--public-key", other)
    # A key beginning with "-" (one in 64 do) is still the option's value.
    dashed = cli_result(env, "verify-signature", str(path), "--public-key", "-" + other[1:])
    assert dashed.returncode == 1 and "expected one argument" not in dashed.stderr
    assert wrong_key.returncode == 1 and f"names key {key_id}" in wrong_key.stdout
    missing = cli_result(
        env, "verify-signature", str(tmp_path / "nothing.json"), "--public-key", other
    )
    assert missing.returncode == 1 and missing.stdout.startswith("invalid: cannot read")
    doubled = tmp_path / "doubled.json"
    doubled.write_text(path.read_text(encoding="utf-8").replace('"days":30', '"days":90,"days":30'))
    refused = cli_result(env, "verify-signature", str(doubled), "--public-key", str(pem))
    assert refused.returncode == 1 and "'days' appears twice" in refused.stdout
    not_a_key = cli_result(env, "verify-signature", str(path), "--public-key", "not-a-key")
    assert not_a_key.returncode == 1 and "public_key" in not_a_key.stdout
