"""A private Redis for a test whose traffic must not reach the rest of the suite: the
contract test's fuzzing fails thousands of sign-ins, which would leave the shared Redis
throttling 127.0.0.1 (and the demo accounts) for every test served by uvicorn after it.
A free port, nothing written to disk, stopped afterwards."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

from medmarket.tests.support.instances import free_port


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5) as peer:
        peer.sendall(b"PING\r\n")
        return peer.recv(16).startswith(b"+PONG")
    return False


@contextlib.contextmanager
def private_redis(timeout: float = 15.0) -> Iterator[str]:
    """A Redis of its own; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mm-redis-") as scratch:
        options = ["--bind", "127.0.0.1", "--port", str(port), "--dir", scratch]
        process = subprocess.Popen(
            [binary, *options, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {port} did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
