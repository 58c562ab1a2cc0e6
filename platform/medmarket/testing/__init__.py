"""The test kit for plugins (``pip install medmarket[testing]``), and what the core's own
tests share with them:

- ``medmarket.testing.contracts``: the contract suite of each kind of adapter, which a
  plugin's tests subclass;
- ``medmarket.testing.http_recorder``: a small real HTTP server that records requests and
  answers as the test says, to stand in for the outside system a plugin talks to;
- ``plugin_settings()``: the platform's settings as a hook receives them.

The core's own test support (databases, the app served in-process, browsers) is
``medmarket.tests.support`` and is not shipped.
"""

from __future__ import annotations

from typing import Any

from medmarket.settings import Settings, load_settings

__all__ = ["plugin_settings"]


def plugin_settings(**overrides: Any) -> Settings:
    """Valid platform settings for a plugin's own tests: placeholder connection strings (a
    plugin has no business with the platform's database or Redis), the test environment,
    and whatever the test sets (``outbound_allowed_networks=["127.0.0.1/32"]`` to reach a
    test server on loopback)."""
    values: dict[str, Any] = {
        "database_url": "postgresql://plugin-tests.invalid/medmarket",
        "redis_url": "redis://plugin-tests.invalid:6379/0",
        "secret_key": "plugin-tests-" + "k" * 40,
        "environment": "test",
        **overrides,
    }
    return load_settings({}, **values)
