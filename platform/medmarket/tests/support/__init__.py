"""Test support of the core's own tests (loaded as a pytest plugin): not shipped in the wheel.

Everything here runs against the real services ``infra/test`` started: a fresh PostgreSQL
database per test session (migrated), the Redis server, and the app served in-process.
Plugins' tests use the public kit, ``medmarket.testing``, instead.
"""
