"""A private coturn (Debian's ``turnserver``) for tests: free ports, a temporary config made
from ``infra/coturn/turnserver-test.conf`` (or the production one, to test its rules), a
random shared secret; stopped afterwards."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from medmarket.tests.support.instances import free_port

ROOT = Path(__file__).resolve().parents[4]
TEST_CONFIG = ROOT / "infra" / "coturn" / "turnserver-test.conf"
PRODUCTION_CONFIG = ROOT / "infra" / "coturn" / "turnserver.conf"
# What a test run sets itself; taken out of the template first.
_RUN_KEYS = {
    "listening-ip",
    "relay-ip",
    "listening-port",
    "tls-listening-port",
    "min-port",
    "max-port",
    "static-auth-secret",
    "log-file",
    "pidfile",
    "userdb",
    "cipher-list",
}


@dataclass
class Coturn:
    port: int
    secret: str
    realm: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def turn_url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


def turnserver_binary() -> str | None:
    return shutil.which("turnserver") or (
        "/usr/bin/turnserver" if Path("/usr/bin/turnserver").exists() else None
    )


def _listening_port() -> int:
    """A port free for UDP and TCP alike: coturn listens on both, and keeps retrying (the
    test never sees it answer) when the TCP one is taken, e.g. by a live server's socket."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP for coturn")


def _relay_ports() -> tuple[int, int]:
    # A small range of UDP ports that are free now (coturn binds them per allocation).
    for _ in range(50):
        low = 20000 + secrets.randbelow(40000)
        if all(_udp_free(port) for port in range(low, low + 40)):
            return low, low + 39
    raise RuntimeError("no free UDP port range for coturn relays")


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextlib.contextmanager
def running_coturn(template: Path = TEST_CONFIG, timeout: float = 30.0) -> Iterator[Coturn]:
    binary = turnserver_binary()
    if binary is None:
        raise RuntimeError("coturn is not installed (Debian package coturn; infra/setup --test)")
    port = _listening_port()
    secret = secrets.token_hex(24)
    low, high = _relay_ports()
    with tempfile.TemporaryDirectory(prefix="mm-coturn-") as scratch:
        config = Path(scratch) / "turnserver.conf"
        log_path = Path(scratch) / "turnserver.log"
        kept = [
            line
            for line in template.read_text().splitlines()
            if line.strip().split("=")[0].strip() not in _RUN_KEYS
        ]
        config.write_text(
            "\n".join(kept)
            + "\nlistening-ip=127.0.0.1\nrelay-ip=127.0.0.1\nno-tls\nno-dtls\nno-rfc5780\n"
            + f"listening-port={port}\nmin-port={low}\nmax-port={high}\n"
            + f"static-auth-secret={secret}\nlog-file={log_path}\n"
            + f"pidfile={Path(scratch) / 'turnserver.pid'}\n"
            + f"userdb={Path(scratch) / 'turndb'}\n"
        )
        process = subprocess.Popen(
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        server = Coturn(port, secret, "medmarket.test", process, log_path)
        try:
            _wait_for_udp_listener(server, timeout)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_for_udp_listener(server: Coturn, timeout: float) -> None:
    """Send a STUN binding request until coturn answers it."""
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + secrets.token_bytes(12)
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.3)
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"turnserver exited: {server.log()}")
            probe.sendto(request, ("127.0.0.1", server.port))
            with contextlib.suppress(TimeoutError, OSError):
                reply, _ = probe.recvfrom(2048)
                if reply[:2] == b"\x01\x01":
                    return
    raise RuntimeError(f"turnserver did not answer on {server.port}: {server.log()}")
