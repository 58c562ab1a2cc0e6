"""Named fault-injection points, so tests can crash the process exactly where it hurts.

Code marks a dangerous moment with ``failpoints.hit("payments.confirm.after_gateway_call")``.
Nothing happens unless ``MEDMARKET_FAILPOINTS`` names that point, and settings refuse that
variable outside ``MEDMARKET_ENVIRONMENT=test``. The value is a comma-separated list of
``point=action``; actions:

- ``kill``: SIGKILL this process on the spot (no cleanup, no response: a real crash);
- ``kill:0.3``: the same, with probability 0.3 at each hit;
- ``error``: raise ``InjectedFault`` (an ordinary exception the code must survive).
"""

from __future__ import annotations

import logging
import os
import random
import signal

from medmarket.settings import Settings

log = logging.getLogger("medmarket.failpoints")


class InjectedFault(RuntimeError):
    """Raised by an ``error`` failpoint."""


class FailpointSyntaxError(ValueError):
    pass


def parse(spec: str) -> dict[str, tuple[str, float]]:
    """``"a=kill,b=kill:0.5,c=error"`` → ``{"a": ("kill", 1.0), ...}``."""
    points: dict[str, tuple[str, float]] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, action = item.partition("=")
        kind, _, chance = action.partition(":")
        if not name or kind not in ("kill", "error"):
            raise FailpointSyntaxError(f"bad failpoint {item!r}: use point=kill[:p] or point=error")
        try:
            probability = float(chance) if chance else 1.0
        except ValueError:
            raise FailpointSyntaxError(f"bad probability in failpoint {item!r}") from None
        points[name.strip()] = (kind, probability)
    return points


class Failpoints:
    def __init__(self, settings: Settings) -> None:
        # Settings already refuse failpoints outside tests; checking again costs nothing.
        active = settings.environment == "test" and settings.failpoints
        self.points = parse(settings.failpoints) if active else {}

    def hit(self, name: str) -> None:
        action = self.points.get(name)
        if action is None:
            return
        kind, probability = action
        if probability < 1.0 and random.random() >= probability:
            return
        if kind == "kill":
            log.warning("failpoint %s: killing process %s", name, os.getpid())
            os.kill(os.getpid(), signal.SIGKILL)
        raise InjectedFault(name)
