"""The health report every adapter's ``health()`` returns; ``medmarket plugins`` prints it."""

from __future__ import annotations

import msgspec


class HealthReport(msgspec.Struct, frozen=True, kw_only=True):
    healthy: bool
    detail: str = ""
