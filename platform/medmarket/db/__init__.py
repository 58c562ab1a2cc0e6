"""PostgreSQL: the pool the application works with, and the migrations that shape it."""

from medmarket.db.pool import Database, Login, connect_pool

__all__ = ["Database", "Login", "connect_pool"]
