"""Booking storm: 200 concurrent clients make 10,000 booking attempts, 90% of them at 20 hot
slots, against the real app (``medmarket serve``) over HTTP.

Prints bookings/s and latency beside pgbench's single-row INSERT rate on the same server in
the same run, and proves: exactly one live booking per slot (an overlap self-join over
bookings returns no row) and every loser got 409.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time

import asyncpg
import httpx
from harness import bench_settings, summary_ms, write_result
from market import pgbench, seed_market, seed_patients

from medmarket.tests.support.instances import app_instances

CLIENTS = 200
ATTEMPTS = 10_000
HOT_SLOTS = 20
HOT_SHARE = 0.9
PRIOR = {"institution": "县人民医院", "diagnosed_on": "2026-01-05", "diagnosis": "高血压"}


async def storm(
    bases: list[str], patients: list[tuple[str, str]], hot: list[str], cold: list[str]
) -> tuple[list[float], collections.Counter[int], float]:
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    remaining = iter(range(ATTEMPTS))
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)

    async def client(token: str, patient_id: str, http: httpx.AsyncClient) -> None:
        chooser = random.Random(patient_id)
        for _ in remaining:
            slot = chooser.choice(hot) if chooser.random() < HOT_SHARE else chooser.choice(cold)
            started = time.perf_counter()
            response = await http.post(
                "/api/bookings",
                headers={"Authorization": f"Bearer {token}"},
                json={"slot_id": slot, "patient_id": patient_id, "prior_diagnosis": PRIOR},
            )
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] += 1

    # Half the clients talk to each instance, as behind a load balancer.
    https = [httpx.AsyncClient(base_url=base, limits=limits, timeout=60) for base in bases]
    try:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                client(token, pid, https[index % len(https)])
                for index, (token, pid) in enumerate(patients)
            )
        )
        elapsed = time.perf_counter() - started
    finally:
        for http in https:
            await http.aclose()
    return latencies, statuses, elapsed


async def run() -> dict[str, object]:
    async with bench_settings(database_pool_max=20) as settings:
        dsn = settings.database_url
        print("seeding 10,000 doctors and 1,000,000 slots ...", flush=True)
        started = time.perf_counter()
        await seed_market(dsn)
        patients = await seed_patients(dsn, CLIENTS)
        print(f"seeded in {time.perf_counter() - started:.1f}s", flush=True)
        connection = await asyncpg.connect(dsn)
        try:
            slot_ids = [
                str(r["id"])
                for r in await connection.fetch("SELECT id FROM slots ORDER BY random() LIMIT 5000")
            ]
            await connection.execute("CREATE TABLE baseline_inserts (id bigserial, v int)")
        finally:
            await connection.close()
        hot, cold = slot_ids[:HOT_SLOTS], slot_ids[HOT_SLOTS:]

        baseline = pgbench(dsn, "INSERT INTO baseline_inserts (v) VALUES (1);\n")
        with app_instances(settings, 2) as instances:
            latencies, statuses, elapsed = await storm(
                [i.url for i in instances], patients, hot, cold
            )

        connection = await asyncpg.connect(dsn)
        try:
            overlaps = await connection.fetchval(
                """
                SELECT count(*) FROM bookings a JOIN bookings b
                    ON a.doctor_id = b.doctor_id AND a.id < b.id AND a.during && b.during
                 WHERE a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed')
                """
            )
            per_hot_slot = await connection.fetch(
                "SELECT s.id, count(b.id) AS live FROM slots s LEFT JOIN bookings b "
                "ON b.slot_id = s.id AND b.status IN ('held', 'confirmed') "
                "WHERE s.id = ANY($1::uuid[]) GROUP BY s.id",
                hot,
            )
            booked = await connection.fetchval(
                "SELECT count(*) FROM bookings WHERE status IN ('held', 'confirmed')"
            )
        finally:
            await connection.close()

    winners = statuses.get(201, 0)
    result = {
        "attempts": ATTEMPTS,
        "clients": CLIENTS,
        "elapsed_s": round(elapsed, 2),
        "attempts_per_s": round(ATTEMPTS / elapsed, 1),
        "bookings": winners,
        "bookings_per_s": round(winners / elapsed, 1),
        "latency": summary_ms(latencies),
        "statuses": dict(statuses),
        "overlapping_live_bookings": overlaps,
        "hot_slots_with_exactly_one_booking": sum(1 for r in per_hot_slot if r["live"] == 1),
        "live_bookings_in_db": booked,
        "baseline_pgbench_insert": baseline,
    }
    path = write_result("booking", result)
    print()
    print(f"{'figure':34} {'MedMarket':>14} {'baseline':>22}")
    print(
        f"{'attempts/s (HTTP, end to end)':34} {result['attempts_per_s']:>14} "
        f"{baseline['tps']:>14} ins/s (pgbench)"
    )
    print(
        f"{'bookings/s (successful holds)':34} {result['bookings_per_s']:>14} "
        f"{baseline['tps']:>14} ins/s (pgbench)"
    )
    print(f"{'successful bookings':34} {winners:>14}")
    print(
        f"{'latency p50 / p99 (ms)':34} "
        f"{result['latency']['p50_ms']:>6} / {result['latency']['p99_ms']:<6} "
        f"{baseline['latency_ms']:>10} ms avg (pgbench)"
    )
    print(
        f"{'ratio attempts/s : pgbench ins/s':34} "
        f"{result['attempts_per_s'] / baseline['tps']:>14.3f}"
    )
    print()
    print(f"statuses: {dict(statuses)}")
    print(f"overlap self-join rows: {overlaps}")
    print(
        f"hot slots with exactly one live booking: "
        f"{result['hot_slots_with_exactly_one_booking']} / {HOT_SLOTS}"
    )
    print(f"written to {path}")
    losers_all_409 = set(statuses) <= {201, 409}
    result["ok"] = (
        overlaps == 0
        and losers_all_409
        and winners == booked
        and result["hot_slots_with_exactly_one_booking"] == HOT_SLOTS
    )
    if not result["ok"]:
        print("FAILED: a booking invariant does not hold (see above)")
    return result
