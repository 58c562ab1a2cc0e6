"""Test support shared by the core's and the plugins' tests (loaded as a pytest plugin).

Everything here runs against the real services ``infra/test`` started: a fresh PostgreSQL
database per test session (migrated), the Redis server, and the app served in-process.
"""
