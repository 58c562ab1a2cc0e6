"""PostgreSQL: the pool the application works with, and the migrations that shape it."""

from medmarket.db.pool import Database, connect_pool

__all__ = ["Database", "connect_pool"]
