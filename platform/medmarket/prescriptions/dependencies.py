"""What the prescription routes are given per request."""

from __future__ import annotations

from typing import Any

from litestar import Request

from medmarket.prescriptions.rules import Rule
from medmarket.prescriptions.service import Prescribing
from medmarket.services import Services


def plugins_rules(services: Services) -> tuple[Rule, ...]:
    """The plugins' prescription rules, run after the platform's. None yet: the
    ``medmarket_prescription_rules`` hook will answer them through the plugin host; until
    it does, only the platform's own rules (``rules.PLATFORM_RULES``) run."""
    return ()


def provide_prescribing(request: Request[Any, Any, Any]) -> Prescribing:
    services: Services = request.app.state.services
    return Prescribing(services, extra_rules=plugins_rules(services))
