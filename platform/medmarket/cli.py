"""The `medmarket` command: serve, migrate, demo, load-drugs, plugins, worker, reverify,
reconcile, create-operator, verify-signature."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import logging
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from medmarket.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from medmarket.signatures import SignedDocument

log = logging.getLogger("medmarket.cli")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"medmarket: bad setting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from medmarket.signaling.messages import MAX_FRAME_BYTES

    settings = _settings()  # fail here, with the variable named, not inside a worker
    proxies = (
        [part.strip() for part in args.forwarded_allow_ips.split(",") if part.strip()]
        if args.forwarded_allow_ips is not None
        else settings.forwarded_allow_ips
    )
    uvicorn.run(
        "medmarket.app:create_app_from_environment",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        # Forwarded headers only from the proxies named: uvicorn's own default would trust
        # anyone on 127.0.0.1 to pick the address the audit trail and the throttles see.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=",".join(proxies) or None,
        log_level="info",
        lifespan="on",
        # Signaling sockets: an oversized message is refused before it is buffered whole.
        ws_max_size=MAX_FRAME_BYTES,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from medmarket.db.migrate import migrate

    settings = _settings()
    applied = asyncio.run(migrate(settings.database_url))
    for migration in applied:
        print(f"applied {migration.version:04d}_{migration.name}")
    if not applied:
        print("migrations are current")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from medmarket.demo import seed_demo

    settings = _settings()
    asyncio.run(seed_demo(settings))
    return 0


def cmd_load_drugs(args: argparse.Namespace) -> int:
    from medmarket.drugs.seed import load_seed
    from medmarket.services import app_database

    settings = _settings()

    async def run() -> int:
        db = await app_database(settings, max_size=1)
        try:
            async with db.connection() as connection:
                return await load_seed(connection)
        finally:
            await db.close()

    print(f"{asyncio.run(run())} new drugs loaded from the essential-medicines list")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from medmarket.health import HealthReport
    from medmarket.plugin_manager import PluginHost

    settings = _settings()
    host = PluginHost(settings)

    async def check() -> dict[str, HealthReport]:
        try:
            return await host.health()
        finally:
            await host.aclose()

    health = asyncio.run(check())
    print(f"{'plugin':32} {'version':10} {'enabled':8} provides")
    for info in host.describe():
        provides = ", ".join(info.provides) or "-"
        print(
            f"{info.name:32} {info.version or '-':10} {'yes' if info.enabled else 'no':8} "
            f"{provides}"
        )
        if info.error:
            print(f"{'':32} error: {info.error}")
        for key in info.provides:
            report = health.get(key)
            if report is not None:
                state = "healthy" if report.healthy else "UNHEALTHY"
                print(f"{'':32} {key}: {state} {report.detail}".rstrip())
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from medmarket.worker import run_worker

    asyncio.run(run_worker(_settings()))
    return 0


def cmd_reverify(args: argparse.Namespace) -> int:
    import msgspec

    from medmarket.doctors.reverification import reverify_all
    from medmarket.domains import open_platform

    settings = _settings()

    async def run() -> None:
        async with open_platform(settings) as services:
            summary = await reverify_all(services, today=args.date, hospital_id=args.hospital)
        print(msgspec.json.encode(summary).decode())

    asyncio.run(run())
    return 0


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def cmd_reconcile(args: argparse.Namespace) -> int:
    from medmarket.domains import open_platform
    from medmarket.payments.reconcile import Reconciler
    from medmarket.payments.service import Payments

    settings = _settings()

    async def run() -> str:
        async with open_platform(settings) as services:
            report = await Reconciler(Payments(services)).run(grace_seconds=args.grace)
            return (
                f"examined {report.examined}, changed {report.changed}, "
                f"busy {report.busy}, failed {report.failed}"
            )

    print(asyncio.run(run()))
    return 0


def cmd_create_operator(args: argparse.Namespace) -> int:
    from medmarket.demo import create_operator

    settings = _settings()
    password = args.password or getpass.getpass("password: ")
    asyncio.run(create_operator(settings, args.email, password, args.name))
    print(f"operator {args.email} created")
    return 0


def _public_key_text(value: str) -> str:
    """``--public-key``: the key itself (base64url), or a file holding it or its PEM."""
    path = Path(value)
    try:
        return path.read_text(encoding="ascii") if path.is_file() else value
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"medmarket: cannot read the public key in {value}: {exc}") from None


def cmd_verify_signature(args: argparse.Namespace) -> int:
    """0 when the envelope is valid, 1 when it is not or cannot be read. Offline with
    ``--public-key`` (no settings, no database); else against the doctors' keys."""
    from medmarket import signatures

    try:
        envelope = signatures.decode(Path(args.file).read_bytes())
        if args.public_key is not None:
            public_key = signatures.read_public_key(_public_key_text(args.public_key))
            if envelope.key_id != signatures.key_id(public_key):
                print(
                    f"invalid: the envelope names key {envelope.key_id}; this public key is "
                    f"{signatures.key_id(public_key)}"
                )
                return 1
            if not signatures.verify_envelope(envelope, public_key):
                print(
                    f"invalid: bad-signature: the signature does not sign this document "
                    f"with key {envelope.key_id}"
                )
                return 1
            print(f"valid: signed with key {envelope.key_id}")
            return 0
    except OSError as exc:
        print(f"invalid: cannot read {args.file}: {exc.strerror or exc}")
        return 1
    except signatures.NotCanonical as exc:
        print(f"invalid: {exc.field}: {exc.message}")
        return 1
    return _verify_against_database(envelope)


def _verify_against_database(envelope: SignedDocument) -> int:
    from medmarket.doctors.signing_keys import verify_signed
    from medmarket.errors import InvalidInput
    from medmarket.services import app_database

    settings = _settings()

    async def run() -> tuple[int, str]:
        db = await app_database(settings, max_size=1)
        try:
            verdict = await verify_signed(db.pool, envelope)
        except InvalidInput as exc:
            return 1, f"invalid: {exc.detail}"
        finally:
            await db.close()
        if not verdict.valid:
            return 1, f"invalid: {verdict.reason}: {verdict.detail}"
        retired = verdict.key_retired_at
        return 0, (
            f"valid: signed by {verdict.doctor_name} (doctor {verdict.doctor_id}) with key "
            f"{verdict.key_id}" + (f", retired since {retired.isoformat()}" if retired else "")
        )

    code, outcome = asyncio.run(run())
    print(outcome)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medmarket", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web application")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="proxies whose X-Forwarded-For is trusted (default: MEDMARKET_FORWARDED_ALLOW_IPS, "
        "else none)",
    )
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="apply pending database migrations").set_defaults(
        func=cmd_migrate
    )
    commands.add_parser("demo", help="seed demo data (idempotent)").set_defaults(func=cmd_demo)
    commands.add_parser(
        "load-drugs", help="load the seed drug catalog (idempotent; demo does it too)"
    ).set_defaults(func=cmd_load_drugs)
    commands.add_parser("plugins", help="list installed plugins and their health").set_defaults(
        func=cmd_plugins
    )
    commands.add_parser(
        "worker",
        help="deliver the outbox; run periodic jobs (holds, re-verification, reconciliation)",
    ).set_defaults(func=cmd_worker)

    reverify = commands.add_parser(
        "reverify",
        help="re-check every approved doctor with their hospital now (the worker does it daily)",
    )
    reverify.add_argument(
        "--date", type=_date, default=None, help="judge expiry as of this day (default: today)"
    )
    reverify.add_argument(
        "--hospital", type=uuid.UUID, default=None, help="only this hospital's doctors"
    )
    reverify.set_defaults(func=cmd_reverify)
    reconcile = commands.add_parser(
        "reconcile", help="settle payments and refunds a crash or outage left unfinished"
    )
    reconcile.add_argument(
        "--grace",
        type=float,
        default=None,
        help="only rows untouched this long (default: MEDMARKET_PAYMENT_RECONCILE_GRACE_SECONDS)",
    )
    reconcile.set_defaults(func=cmd_reconcile)

    verify = commands.add_parser(
        "verify-signature",
        help="check a signed document (an envelope file, docs/signatures.md); exit 0 if valid",
    )
    verify.add_argument("file", help="the envelope, as JSON")
    verify.add_argument(
        "--public-key",
        default=None,
        help="verify offline with this Ed25519 public key: base64url of its 32 bytes, or a "
        "file holding that or its PEM (default: the doctors' keys in the database)",
    )
    verify.set_defaults(func=cmd_verify_signature)

    operator = commands.add_parser("create-operator", help="create a platform operator account")
    operator.add_argument("--email", required=True)
    operator.add_argument("--name", default="Operator")
    operator.add_argument("--password")
    operator.set_defaults(func=cmd_create_operator)
    return parser


# Options whose value may begin with "-": a base64url key does, one time in 64, and argparse
# would take it for an option ("expected one argument").
DASHED_VALUES = ("--public-key",)


def _join_dashed_values(argv: Sequence[str]) -> list[str]:
    """``--public-key -Xy...`` as ``--public-key=-Xy...``."""
    joined: list[str] = []
    words = iter(argv)
    for word in words:
        if word in DASHED_VALUES:
            value = next(words, None)
            joined.append(word if value is None else f"{word}={value}")
        else:
            joined.append(word)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(_join_dashed_values(sys.argv[1:] if argv is None else argv))
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
