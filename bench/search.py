"""Storefront search over 10,000 doctors and 1,000,000 slots: p50/p99 of typical searches
over HTTP, beside the HTTP floor (``/healthz`` through the same stack) and pgbench's
primary-key lookup on the same server in the same run."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import httpx
from harness import bench_settings, summary_ms, write_result
from market import pgbench, seed_market

from medmarket.settings import DEFAULT_TIME_ZONE
from medmarket.tests.support.instances import app_instances

ROUNDS = 200
TOMORROW = (dt.datetime.now(ZoneInfo(DEFAULT_TIME_ZONE)).date() + dt.timedelta(days=1)).isoformat()
SEARCHES: dict[str, dict[str, str]] = {
    "specialty, by rating": {"specialty": "心内科"},
    "specialty + free on a date": {"specialty": "儿科", "date": TOMORROW},
    "text (one Chinese character)": {"q": "王"},
    "text (full name)": {"q": "王伟芳"},
    "price range, cheapest first": {"price_min": "3000", "price_max": "8000", "sort": "price_asc"},
    "region + language": {"region": "甘肃", "language": "en"},
    "everyone, soonest first": {"sort": "soonest"},
}


async def measure(http: httpx.AsyncClient, path: str, params: dict[str, str]) -> list[float]:
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = await http.get(path, params=params)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return timings


async def run() -> dict[str, object]:
    async with bench_settings() as settings:
        dsn = settings.database_url
        print("seeding 10,000 doctors and 1,000,000 slots ...", flush=True)
        await seed_market(dsn)
        pk_lookup = pgbench(
            dsn,
            "\\set id random(1, 10000)\n"
            "SELECT id FROM doctors WHERE licence_number = "
            "'BENCH' || lpad(:id::text, 10, '0');\n",
            clients=1,
        )
        with app_instances(settings, 1) as instances:
            async with httpx.AsyncClient(base_url=instances[0].url, timeout=30) as http:
                floor = summary_ms(await measure(http, "/healthz", {}))
                figures = {}
                for name, params in SEARCHES.items():
                    await measure(http, "/api/doctors", params)  # warm up
                    figures[name] = summary_ms(await measure(http, "/api/doctors", params))
                    first = (await http.get("/api/doctors", params=params)).json()
                    if first["next_cursor"]:
                        figures[name + " (page 2)"] = summary_ms(
                            await measure(
                                http, "/api/doctors", {**params, "cursor": first["next_cursor"]}
                            )
                        )
    result = {
        "rounds": ROUNDS,
        "searches": figures,
        "baseline_http_healthz": floor,
        "baseline_pgbench_pk_lookup": pk_lookup,
    }
    path = write_result("search", result)
    print()
    # Each search beside the same run's floors: an HTTP round trip that does nothing
    # (/healthz) and one indexed row from PostgreSQL (pgbench).
    print(f"{'search':40} {'p50 ms':>8} {'p99 ms':>8} {'p50 : healthz':>14} {'p50 : pk':>10}")
    for name, figure in figures.items():
        print(
            f"{name:40} {figure['p50_ms']:>8} {figure['p99_ms']:>8} "
            f"{figure['p50_ms'] / max(floor['p50_ms'], 0.001):>13.1f}x "
            f"{figure['p50_ms'] / max(pk_lookup['latency_ms'], 0.001):>9.0f}x"
        )
    print(f"{'baseline: GET /healthz (HTTP floor)':40} {floor['p50_ms']:>8} {floor['p99_ms']:>8}")
    print(f"{'baseline: pgbench PK lookup (avg)':40} {pk_lookup['latency_ms']:>8}")
    print(f"written to {path}")
    return result
