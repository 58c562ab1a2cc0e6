"""A benchmark market: 10,000 approved doctors and 1,000,000 slots seeded in bulk SQL,
patients with sessions, and pgbench as the baseline on the same server."""

from __future__ import annotations

import hashlib
import secrets
import subprocess
from pathlib import Path

import asyncpg
from harness import RESULTS

SPECIALTIES = [
    "心内科",
    "儿科",
    "内分泌科",
    "皮肤科",
    "呼吸内科",
    "消化内科",
    "神经内科",
    "骨科",
    "妇产科",
    "眼科",
    "耳鼻喉科",
    "肿瘤科",
    "肾内科",
    "精神科",
    "中医科",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力"


async def seed_market(dsn: str, *, doctors: int = 10_000, slots_per_doctor: int = 100) -> None:
    """Doctors, offerings and slots in bulk SQL: the benchmark measures booking and search,
    not the onboarding flow."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            """
            INSERT INTO hospitals (name, level, region)
            SELECT '第' || n || '人民医院', (ARRAY['三级甲等', '三级乙等', '二级甲等'])[1 + n % 3],
                   (ARRAY['浙江省杭州市', '浙江省温州市', '四川省成都市', '甘肃省兰州市',
                          '云南省昆明市'])[1 + n % 5]
              FROM generate_series(1, 50) n
            """
        )
        await connection.execute(
            """
            INSERT INTO users (email, password_hash, role, display_name)
            SELECT 'doctor' || n || '@bench.example', 'not-a-login', 'doctor', 'd' || n
              FROM generate_series(1, $1) n
            """,
            doctors,
        )
        await connection.execute(
            """
            INSERT INTO doctors (user_id, hospital_id, full_name, licence_number, title,
                                 specialties, languages, status, review_count, rating_sum)
            SELECT u.id,
                   (SELECT id FROM hospitals ORDER BY id OFFSET (n % 50) LIMIT 1),
                   substr($1::text, (1 + n % length($1::text))::int, 1)
                       || substr($2::text, (1 + (n / 7) % length($2::text))::int, 1)
                       || substr($2::text, (1 + (n / 3) % length($2::text))::int, 1),
                   'BENCH' || lpad(n::text, 10, '0'),
                   (ARRAY['主任医师','副主任医师','主治医师','住院医师'])[1 + n % 4],
                   ARRAY[($3::text[])[(1 + n % array_length($3::text[], 1))::int]],
                   CASE WHEN n % 10 = 0 THEN ARRAY['zh','en'] ELSE ARRAY['zh'] END,
                   'approved', n % 50, (n % 50) * (3 + n % 3)
              FROM (SELECT u.id, row_number() OVER (ORDER BY u.email) AS n
                      FROM users u WHERE u.email LIKE '%@bench.example') u
            """,
            SURNAMES,
            GIVEN,
            SPECIALTIES,
        )
        await connection.execute(
            """
            INSERT INTO consult_offerings (doctor_id, kind, price_fen, slot_minutes)
            SELECT id, 'video', 2000 + (abs(hashtext(id::text)) % 280) * 100, 30 FROM doctors
            """
        )
        await connection.execute(
            """
            INSERT INTO slots (doctor_id, kind, starts_at, ends_at)
            SELECT d.id, 'video',
                   date_trunc('day', now()) + interval '1 day' + k * interval '30 minutes',
                   date_trunc('day', now()) + interval '1 day' + (k + 1) * interval '30 minutes'
              FROM doctors d, generate_series(0, $1 - 1) k
            """,
            slots_per_doctor,
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def seed_patients(dsn: str, count: int) -> list[tuple[str, str]]:
    """Patients with real-name records, consent and API sessions: [(token, patient id)]."""
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            """
            WITH accounts AS (
                INSERT INTO users (email, password_hash, role, display_name)
                SELECT 'patient' || n || '-' || $2 || '@bench.example', 'not-a-login',
                       'patient', 'p' || n
                  FROM generate_series(1, $1) n
                RETURNING id
            ), consents AS (
                INSERT INTO health_data_consents (account_id, policy_version)
                SELECT id, 'bench' FROM accounts RETURNING account_id
            )
            INSERT INTO patients (account_id, relationship, real_name, date_of_birth)
            SELECT account_id, 'self', '患者', '1970-01-01' FROM consents
            RETURNING id, account_id
            """,
            count,
            secrets.token_hex(4),
        )
        await connection.executemany(
            "INSERT INTO sessions (token_hash, user_id, kind, csrf_token, expires_at) "
            "VALUES ($1, $2, 'api', 'x', now() + interval '1 day')",
            [
                (hashlib.sha256(token.encode()).digest(), row["account_id"])
                for token, row in zip(tokens, rows, strict=True)
            ],
        )
    finally:
        await connection.close()
    return [(token, str(row["id"])) for token, row in zip(tokens, rows, strict=True)]


def pgbench(dsn: str, script: str, *, clients: int = 8, seconds: int = 10) -> dict[str, float]:
    """Run pgbench with a custom script; returns tps and average latency in ms."""
    path = RESULTS / "pgbench.sql"
    RESULTS.mkdir(exist_ok=True)
    path.write_text(script)
    binary = next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), "pgbench"
    )
    output = subprocess.run(
        [binary, "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(path), dsn],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith("tps"):
            figures["tps"] = float(line.split("=")[1].split()[0])
        if line.startswith("latency average"):
            figures["latency_ms"] = float(line.split("=")[1].split()[0])
    return figures
