"""What a domain provides to the platform, declared in one object.

Each domain folder has a ``domain.py`` whose ``DOMAIN`` says everything the domain adds to a
running platform; the composition root (``app.py``, ``worker.py``, ``cli.py``) reads the one
list of them in ``domains.py`` and wires nothing by hand. A domain is added by writing its
``DOMAIN`` and adding it to that list (docs/architecture.md walks through it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from medmarket.jobs import Job
from medmarket.outbox.worker import Handler
from medmarket.services import Provision, Services

# Per-instance background work of the web app (a stream reader, a sweeper): entered once the
# services are on ``app.state``, left before they close.
AppLifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


@dataclass(frozen=True, kw_only=True)
class Domain:
    name: str
    # The domain's API (route handlers, Routers, Controllers).
    routes: Sequence[ControllerRouterHandler] = ()
    # Its HTML pages (web/README.md), mounted after every domain's API.
    pages: Sequence[ControllerRouterHandler] = ()
    # Litestar dependencies by name (each name provided by one domain only).
    dependencies: Mapping[str, Provide] = field(default_factory=dict)
    lifespans: Sequence[AppLifespan] = ()
    # The outbox topics it consumes (the worker delivers them; each handler idempotent).
    outbox_handlers: Callable[[Services], Mapping[str, Handler]] | None = None
    # Periodic jobs the worker runs.
    jobs: Sequence[Job] = ()
    # What it provides to ports lower domains declare: payment purposes, booking listeners,
    # the room authority (services.py explains ports).
    provides: Sequence[Provision[Any]] = ()
