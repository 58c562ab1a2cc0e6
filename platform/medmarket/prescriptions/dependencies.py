"""What the prescription routes are given per request."""

from __future__ import annotations

from typing import Any

from litestar import Request

from medmarket.prescriptions.rules import Rule
from medmarket.prescriptions.service import Prescribing
from medmarket.services import Services


def plugins_rules(services: Services) -> tuple[Rule, ...]:
    """The plugins' prescription rules (the ``medmarket_prescription_rules`` hook, collected
    once by the plugin host, each behind its error boundary), run after the platform's."""
    return tuple(services.plugins.prescription_rules)


def provide_prescribing(request: Request[Any, Any, Any]) -> Prescribing:
    services: Services = request.app.state.services
    return Prescribing(services, extra_rules=plugins_rules(services))
