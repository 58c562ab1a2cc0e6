"""Migrations apply in order, once, under a lock; an edited landed migration is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from medmarket.app import create_app
from medmarket.db.migrate import MigrationError, available_migrations, migrate
from medmarket.tests.support.databases import create_database, drop_database
from medmarket.tests.support.fixtures import asgi_transport, make_settings, running


@pytest.fixture
async def empty_database(server_dsn: str) -> AsyncIterator[str]:
    dsn = await create_database(server_dsn, prefix="mm_migrate")
    yield dsn
    await drop_database(dsn)


def test_migration_files_have_unique_ascending_numbers() -> None:
    versions = [m.version for m in available_migrations()]
    assert versions[0] == 1
    assert versions == sorted(set(versions))


async def test_applying_twice_applies_nothing_the_second_time(empty_database: str) -> None:
    first = await migrate(empty_database)
    assert [m.version for m in first] == [m.version for m in available_migrations()]
    assert await migrate(empty_database) == []
    connection = await asyncpg.connect(empty_database)
    try:
        recorded = await connection.fetch("SELECT version, checksum FROM schema_migrations")
    finally:
        await connection.close()
    assert {r["version"]: r["checksum"] for r in recorded} == {
        m.version: m.checksum for m in available_migrations()
    }


async def test_concurrent_runs_apply_each_migration_once(empty_database: str) -> None:
    results = await asyncio.gather(*(migrate(empty_database) for _ in range(4)))
    applied = [m.version for result in results for m in result]
    assert sorted(applied) == [m.version for m in available_migrations()]


async def test_an_edited_landed_migration_stops_the_run(empty_database: str) -> None:
    await migrate(empty_database)
    connection = await asyncpg.connect(empty_database)
    try:
        await connection.execute(
            "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"
        )
    finally:
        await connection.close()
    with pytest.raises(MigrationError, match="edited after it was applied"):
        await migrate(empty_database)


async def test_readyz_reports_a_database_that_is_not_migrated(empty_database: str) -> None:
    app = create_app(make_settings(empty_database, database_app_role=""))
    transport = asgi_transport(app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        not_ready = await http.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["postgresql"]["healthy"] is False
        assert not_ready.json()["checks"]["redis"]["healthy"] is True
        await migrate(empty_database)
        assert (await http.get("/readyz")).status_code == 200
