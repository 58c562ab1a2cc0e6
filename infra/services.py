#!/usr/bin/env python3
"""Start (or find running) the services MedMarket needs, privately under .data/.

    python3 infra/services.py start [--with localstripe [--webhook-url URL]]  # shell exports
    python3 infra/services.py stop

PostgreSQL and Redis are started from the machine's own binaries unless DATABASE_URL /
REDIS_URL are already set, in which case those are used as they are. Running `start` twice
finds the first run's services and starts nothing new. Standard library only: this runs
before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
STATE = DATA / "services.json"
PREFERRED_PORTS = {"postgresql": 55432, "redis": 56379, "localstripe": 58420}


def log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def choose_port(name: str, state: dict) -> int:
    recorded = state.get(name, {}).get("port")
    if recorded:
        return int(recorded)
    port = PREFERRED_PORTS[name]
    while not port_is_free(port):
        port += 1
    return port


def wait_for_port(port: int, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_answers(port):
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start listening on port {port}")


def load_state() -> dict:
    return json.loads(STATE.read_text()) if STATE.exists() else {}


def save_state(state: dict) -> None:
    DATA.mkdir(exist_ok=True)
    STATE.write_text(json.dumps(state, indent=2))


# -- PostgreSQL ---------------------------------------------------------------------------
def postgres_bin(name: str) -> str:
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[4])
    )
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise SystemExit(f"PostgreSQL's {name} is not installed (infra/setup installs it)")
    return found


def postgres_owner() -> str | None:
    """PostgreSQL refuses to run as root; as root we run it as the 'postgres' system user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--home-dir",
                "/var/lib/postgresql",
                "--shell",
                "/bin/bash",
                "postgres",
            ],
            check=True,
        )
    return "postgres"


def as_owner(owner: str | None, command: list[str]) -> list[str]:
    # From "/", so the postgres user need not be able to enter the checkout.
    return ["runuser", "-u", owner, "--", "env", "-C", "/", *command] if owner else command


def postgres_data_dir(owner: str | None) -> Path:
    """.data/postgres, unless the postgres user cannot reach it (a clone under /root, say):
    then a folder of ours under /var/lib, named after this checkout."""
    wanted = DATA / "postgres"
    if owner is None:
        return wanted
    probe = subprocess.run(as_owner(owner, ["test", "-x", str(DATA)]), check=False)
    if probe.returncode == 0:
        return wanted
    tag = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    return Path(f"/var/lib/medmarket-dev/{tag}/postgres")


def start_postgres(state: dict) -> str:
    owner = postgres_owner()
    DATA.mkdir(exist_ok=True)
    data_dir = Path(state.get("postgresql", {}).get("data_dir") or postgres_data_dir(owner))
    port = choose_port("postgresql", state)
    state["postgresql"] = {"port": port, "data_dir": str(data_dir)}
    if not (data_dir / "PG_VERSION").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        if owner:
            shutil.chown(data_dir, owner, owner)
            if not str(data_dir).startswith(str(DATA)):
                for parent in data_dir.parents:
                    if str(parent).startswith("/var/lib/medmarket-dev"):
                        shutil.chown(parent, owner, owner)
        log(f"initialising a PostgreSQL cluster in {data_dir}")
        subprocess.run(
            as_owner(
                owner,
                [
                    postgres_bin("initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{data_dir}'",
            "max_connections": "300",
            "shared_buffers": "256MB",
            # A private development cluster: durability across power loss is not needed.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with open(data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# medmarket development settings\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
    if not port_answers(port):
        log(f"starting PostgreSQL on 127.0.0.1:{port}")
        subprocess.run(
            as_owner(
                owner,
                [
                    postgres_bin("pg_ctl"),
                    "-D",
                    str(data_dir),
                    "-l",
                    str(data_dir / "server.log"),
                    "-o",
                    f"-p {port}",
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(port, "PostgreSQL")
    create = subprocess.run(
        [
            postgres_bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-tAc",
            "SELECT 1 FROM pg_database WHERE datname = 'medmarket'",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    if create.stdout.strip() != "1":
        subprocess.run(
            [
                postgres_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "medmarket",
            ],
            check=True,
        )
    return f"postgresql://postgres@127.0.0.1:{port}/medmarket"


def stop_postgres(state: dict) -> None:
    info = state.get("postgresql")
    if info and Path(info["data_dir"], "postmaster.pid").exists():
        subprocess.run(
            as_owner(
                postgres_owner(),
                [postgres_bin("pg_ctl"), "-D", info["data_dir"], "-m", "fast", "stop"],
            ),
            check=False,
        )


# -- Redis --------------------------------------------------------------------------------
def start_redis(state: dict) -> str:
    server = shutil.which("redis-server")
    if not server:
        raise SystemExit("redis-server is not installed (infra/setup installs it)")
    port = choose_port("redis", state)
    folder = DATA / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    state["redis"] = {"port": port}
    if not port_answers(port):
        log(f"starting Redis on 127.0.0.1:{port}")
        subprocess.run(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--dir",
                str(folder),
                "--pidfile",
                str(folder / "redis.pid"),
                "--logfile",
                str(folder / "redis.log"),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
        )
        wait_for_port(port, "Redis")
    return f"redis://127.0.0.1:{port}/0"


def stop_redis(state: dict) -> None:
    pidfile = DATA / "redis" / "redis.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), 15)


# -- localstripe (a Stripe emulator) --------------------------------------------------------
def start_localstripe(state: dict) -> str:
    python = ROOT / ".venv-localstripe" / "bin" / "python"
    if not (ROOT / ".venv-localstripe" / "bin" / "localstripe").exists():
        raise SystemExit("localstripe is not installed (infra/setup --test installs it)")
    port = choose_port("localstripe", state)
    state["localstripe"] = {**state.get("localstripe", {}), "port": port}
    DATA.mkdir(exist_ok=True)
    if not port_answers(port):
        log(f"starting localstripe on 127.0.0.1:{port}")
        logfile = open(DATA / "localstripe.log", "ab")  # noqa: SIM115 - the child keeps it
        child = subprocess.Popen(
            [str(python), str(ROOT / "infra" / "run_localstripe.py"), "--port", str(port)],
            stdout=logfile,
            stderr=logfile,
            start_new_session=True,
        )
        state["localstripe"]["pid"] = child.pid
        wait_for_port(port, "localstripe")
    return f"http://127.0.0.1:{port}"


def stop_localstripe(state: dict) -> None:
    pid = state.get("localstripe", {}).get("pid")
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), 15)


def register_localstripe_webhook(url: str, secret: str, state: dict) -> None:
    """localstripe keeps webhooks in memory: tell it (again) where to send events."""
    port = state["localstripe"]["port"]
    body = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_config/webhooks/medmarket", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own
        response.read()


def stored_secret(name: str, make: Callable[[], str]) -> str:
    path = DATA / name
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def secret_key() -> str:
    return stored_secret("secret_key", lambda: secrets.token_urlsafe(48))


def cmd_start(args: argparse.Namespace) -> None:
    state = load_state()
    exports: dict[str, str] = {}
    exports["DATABASE_URL"] = os.environ.get("DATABASE_URL") or start_postgres(state)
    exports["REDIS_URL"] = os.environ.get("REDIS_URL") or start_redis(state)
    if "localstripe" in args.with_:
        url = start_localstripe(state)
        exports["MEDMARKET_LOCALSTRIPE_URL"] = url
        # The built-in Stripe gateway, pointed at localstripe (which accepts any sk_/pk_ key).
        exports["MEDMARKET_STRIPE_API_BASE"] = url
        exports["MEDMARKET_STRIPE_SECRET_KEY"] = "sk_test_localstripe"  # noqa: S105 - a dummy
        exports["MEDMARKET_STRIPE_PUBLISHABLE_KEY"] = "pk_test_localstripe"
        webhook_secret = stored_secret(
            "stripe_webhook_secret", lambda: "whsec_" + secrets.token_hex(24)
        )
        exports["MEDMARKET_STRIPE_WEBHOOK_SECRETS"] = webhook_secret
        if args.webhook_url:
            register_localstripe_webhook(args.webhook_url, webhook_secret, state)
    exports["MEDMARKET_SECRET_KEY"] = os.environ.get("MEDMARKET_SECRET_KEY") or secret_key()
    exports["MEDMARKET_DATA_DIR"] = os.environ.get("MEDMARKET_DATA_DIR") or str(DATA)
    save_state(state)
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")


def cmd_stop(args: argparse.Namespace) -> None:
    state = load_state()
    stop_localstripe(state)
    stop_redis(state)
    stop_postgres(state)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start")
    start.add_argument("--with", dest="with_", action="append", default=[], choices=["localstripe"])
    start.add_argument(
        "--webhook-url",
        help="with localstripe: where it sends signed events (the app's Stripe webhook)",
    )
    start.set_defaults(func=cmd_start)
    commands.add_parser("stop").set_defaults(func=cmd_stop)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
