"""PostgreSQL: the pool the application works with, and the migrations that shape it."""

from medmarket.db.pool import Connection, Database, Login, connect_pool, fetch_one

__all__ = ["Connection", "Database", "Login", "connect_pool", "fetch_one"]
