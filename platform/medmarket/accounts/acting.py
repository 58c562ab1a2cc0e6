"""Acting as an account without a session: for the demo seeder and operators' command-line
tools, which go through the same services (and leave the same audit trail) as a request."""

from __future__ import annotations

import datetime as dt

from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Database


async def principal_of(db: Database, email: str) -> Principal | None:
    row = await db.fetchrow(
        "SELECT id, role, email, display_name, locale, time_zone FROM users WHERE email = $1",
        email,
    )
    if row is None:
        return None
    return Principal(
        user_id=row["id"],
        role=row["role"],
        email=row["email"],
        display_name=row["display_name"],
        locale=row["locale"],
        time_zone=row["time_zone"],
        session_kind="api",
        csrf_token="",
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
    )


def context_of(principal: Principal, request_id: str = "demo") -> AuditContext:
    return AuditContext(
        actor_id=principal.user_id, actor_role=principal.role, request_id=request_id
    )
