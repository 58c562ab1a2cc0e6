"""The operators' (and the regulator's) read of the audit trail."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Router, get
from litestar.params import FromQuery, QueryParameter

from medmarket.accounts.guards import allow
from medmarket.audit.service import AuditEvent, events


@get("/")
async def list_audit_events(
    request: Request[Any, Any, Any],
    subject_type: FromQuery[str | None] = None,
    subject_id: FromQuery[str | None] = None,
    actor_id: FromQuery[uuid.UUID | None] = None,
    consultation_id: FromQuery[uuid.UUID | None] = None,
    before_id: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> list[AuditEvent]:
    """Newest first; page with ``before_id`` set to the last id you saw."""
    return await events(
        request.app.state.services.db.pool,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_id=actor_id,
        consultation_id=consultation_id,
        before_id=before_id,
        limit=limit,
    )


ROUTES = [
    Router(
        path="/api/audit",
        opt=allow("operator"),
        tags=["audit"],
        route_handlers=[list_audit_events],
    )
]
