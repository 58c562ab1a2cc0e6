"""What every benchmark shares: a throw-away database, settings, two app instances in their
own processes, percentiles, and writing results to bench/results/."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import secrets
import statistics
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from medmarket.db.migrate import migrate
from medmarket.settings import Settings, load_settings
from medmarket.tests.support.databases import create_database, drop_database
from medmarket.tests.support.instances import Instance, app_instances

RESULTS = Path(__file__).resolve().parent / "results"


def require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: run benchmarks with infra/bench")
    return value


@asynccontextmanager
async def bench_settings(**overrides: Any) -> AsyncIterator[Settings]:
    database_url = await create_database(require("DATABASE_URL"), prefix="mm_bench")
    try:
        await migrate(database_url)
        yield load_settings(
            {},
            database_url=database_url,
            redis_url=require("REDIS_URL"),
            secret_key=secrets.token_urlsafe(48),
            environment="test",
            **overrides,
        )
    finally:
        await drop_database(database_url)


@asynccontextmanager
async def two_instances(settings: Settings) -> AsyncIterator[list[Instance]]:
    with app_instances(settings, 2) as instances:
        yield instances


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values_seconds: Sequence[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_seconds]
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 0.50), 3),
        "p95_ms": round(percentile(ms, 0.95), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "max_ms": round(max(ms), 3) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else float("nan"),
    }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "system": platform.platform(),
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(
        json.dumps({"benchmark": name, "at": stamp, "machine": machine(), **result}, indent=2)
    )
    return path
