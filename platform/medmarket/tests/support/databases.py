"""Throw-away PostgreSQL databases on the server DATABASE_URL points at."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


async def create_database(server_dsn: str, prefix: str = "mm_test") -> str:
    """Create an empty database with a unique name; returns its DSN."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(with_database(server_dsn, "postgres"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(server_dsn, name)


async def drop_database(dsn: str) -> None:
    name = urlsplit(dsn).path.lstrip("/")
    connection = await asyncpg.connect(with_database(dsn, "postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
