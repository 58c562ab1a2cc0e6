"""The `medmarket` command: serve, migrate, demo, load-drugs, plugins, worker, reverify,
reconcile, create-operator."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import logging
import sys
import uuid
from collections.abc import Sequence

from medmarket.settings import Settings, SettingsError, load_settings

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

    operator = commands.add_parser("create-operator", help="create a platform operator account")
    operator.add_argument("--email", required=True)
    operator.add_argument("--name", default="Operator")
    operator.add_argument("--password")
    operator.set_defaults(func=cmd_create_operator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
