"""Real app instances as separate processes (uvicorn on free ports), for tests and benchmarks
that must cross process boundaries: two instances sharing one Redis and one database."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from medmarket.settings import Settings, env_name
from medmarket.signaling.messages import MAX_FRAME_BYTES


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce ``settings`` in another process."""
    environ: dict[str, str] = {}
    for field in Settings.__struct_fields__:
        value = getattr(settings, field)
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(value)
        environ[env_name(field)] = str(value)
    return environ


def process_environment(settings: Settings) -> dict[str, str]:
    """This process's environment with its own settings replaced by ``settings``."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MEDMARKET_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    environ.update(settings_environment(settings))
    return environ


@dataclass
class Instance:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"instance at {url} exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"instance at {url} did not answer within {timeout:g}s")


@contextlib.contextmanager
def app_instances(
    settings: Settings,
    count: int = 2,
    *,
    extra_environment: Mapping[str, str] | None = None,
    startup_timeout: float = 90.0,
) -> Iterator[list[Instance]]:
    """Start ``count`` instances with ``settings``; stop them (and only them) afterwards."""
    environ = process_environment(settings)
    environ.update(extra_environment or {})
    started: list[Instance] = []
    with tempfile.TemporaryDirectory(prefix="mm-instances-") as scratch:
        try:
            for index in range(count):
                port = free_port()
                log_path = Path(scratch) / f"instance-{index}.log"
                with log_path.open("wb") as log_file:
                    process = subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "uvicorn",
                            "medmarket.app:create_app_from_environment",
                            "--factory",
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(port),
                            "--lifespan",
                            "on",
                            "--log-level",
                            "warning",
                            "--no-access-log",
                            "--no-proxy-headers",  # as `medmarket serve` with no proxy named
                            "--ws-max-size",
                            str(MAX_FRAME_BYTES),
                        ],
                        env=environ,
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                    )
                started.append(Instance(f"http://127.0.0.1:{port}", process, log_path))
            for instance in started:
                wait_until_healthy(instance.url, instance.process, startup_timeout)
            yield started
        finally:
            for instance in started:
                instance.process.terminate()
            for instance in started:
                try:
                    instance.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    instance.process.kill()
                    instance.process.wait(timeout=10)
