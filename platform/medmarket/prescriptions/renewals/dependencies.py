"""What the renewal routes are given per request."""

from __future__ import annotations

from typing import Any

from litestar import Request

from medmarket.prescriptions.dependencies import provide_prescribing
from medmarket.prescriptions.renewals.service import Renewals


def provide_renewals(request: Request[Any, Any, Any]) -> Renewals:
    return Renewals(request.app.state.services, provide_prescribing(request))
