"""The guard every route passes. Access is denied by default: a route must declare who may
use it with ``opt=allow(...)`` or ``opt=PUBLIC``, on its handler or on the Router of its
resource; one that declares nothing refuses everyone, and so does the OPTIONS answer litestar
adds to every path on its own (``declared_access``).

Browser sessions (cookie) must also prove, on every unsafe method, that the request came from
our own pages: the ``X-CSRF-Token`` header or a ``_csrf`` form field must equal the session's
token. Bearer-token sessions are not sent by browsers on their own, so they need no proof.
"""

from __future__ import annotations

import hmac
import ipaddress
import uuid
from typing import Any, cast

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityRequirement, SecurityScheme
from litestar.routes import HTTPRoute

from medmarket.accounts.schemas import ALL_ROLES, Role
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import Forbidden, NotAuthenticated
from medmarket.openapi import Authentication

SESSION_COOKIE = "mm_session"
CSRF_COOKIE = "mm_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf"
_PRINCIPAL = "medmarket.principal"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The function behind the OPTIONS route litestar adds to every path.
_LITESTARS_OPTIONS = f"{HTTPRoute.create_options_handler.__qualname__}.<locals>.options_handler"

PUBLIC: dict[str, Any] = {"access": "public"}
SIGNED_IN: dict[str, Any] = {"access": ALL_ROLES}


def allow(*roles: Role) -> dict[str, Any]:
    """Route option: only these roles may call the route."""
    unknown = set(roles) - ALL_ROLES
    if not roles or unknown:
        raise ValueError(f"allow() needs known roles, got {roles!r}")
    return {"access": frozenset(roles)}


def declared_access(handler: BaseRouteHandler) -> Any:
    """Who may call the route: its ``access`` option (its Router's unless the handler names
    its own), or None. The OPTIONS route litestar adds to every path is none of ours: it takes
    its Router's options like a handler, but its Allow header may leave out methods of the
    path (only its first handler's: litestar#4169, fixed in litestar 3), so it declares
    nothing."""
    if handler.fn.__qualname__ == _LITESTARS_OPTIONS:
        return None
    return handler.opt.get("access")


def session_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    authorization = connection.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return connection.cookies.get(SESSION_COOKIE) or None


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The principal of this request (looked up once, then kept in the scope)."""
    memo = cast(dict[str, Any], connection.scope)
    if _PRINCIPAL in memo:
        return cast(Principal | None, memo[_PRINCIPAL])
    token = session_token(connection)
    principal = None
    if token:
        principal = await connection.app.state.accounts.resolve(token)
    memo[_PRINCIPAL] = principal
    return principal


async def submitted_csrf_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The CSRF token the request carries: the X-CSRF-Token header or the form's _csrf."""
    header = connection.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = connection.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await connection.form()  # type: ignore[attr-defined]
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def access_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    access = declared_access(handler)
    if access is None:
        raise Forbidden("this route declares no access rule, so it refuses everyone")
    principal = await authenticate(connection)
    if access == "public":
        return
    if principal is None:
        raise NotAuthenticated()
    if principal.role not in access:
        raise Forbidden()
    method = connection.scope.get("method")
    if principal.session_kind == "browser" and method and method not in SAFE_METHODS:
        proof = await submitted_csrf_token(connection)
        if not hmac.compare_digest(proof.encode(), principal.csrf_token.encode()):
            raise Forbidden(
                "missing or wrong CSRF token; reload the page and try again", code="csrf"
            )


def security_requirements(
    handler: BaseRouteHandler, method: str
) -> list[SecurityRequirement] | None:
    """What a route requires of its caller, for the OpenAPI document: nothing when it is
    public; else a bearer token, or the session cookie with, on unsafe methods, the CSRF
    header (``access_guard`` decides the same)."""
    if handler.opt.get("access") == "public":
        return None
    cookie: SecurityRequirement = {"session": []}
    if method not in SAFE_METHODS:
        cookie = {"session": [], "csrf": []}
    return [{"bearer": []}, cookie]


AUTHENTICATION = Authentication(
    schemes={
        "bearer": SecurityScheme(
            type="http", scheme="bearer", description="An API token from `POST /api/tokens`."
        ),
        "session": SecurityScheme(
            type="apiKey",
            name=SESSION_COOKIE,
            security_scheme_in="cookie",
            description="A browser session from `POST /api/session` (an HttpOnly cookie).",
        ),
        "csrf": SecurityScheme(
            type="apiKey",
            name=CSRF_HEADER,
            security_scheme_in="header",
            description=(
                "With the session cookie, unsafe methods carry the session's CSRF token "
                f"(`csrf_token` of `POST /api/session`, also in the `{CSRF_COOKIE}` cookie)."
            ),
        ),
    },
    requirements=security_requirements,
)


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency ``principal``: the signed-in caller (the guard has already checked it)."""
    principal = optional_principal(request)
    if principal is None:
        raise NotAuthenticated()
    return principal


def optional_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    return cast(Principal | None, cast(dict[str, Any], connection.scope).get(_PRINCIPAL))


def audit_context(request: Request[Any, Any, Any]) -> AuditContext:
    """Dependency ``context``: who is acting and from where, for the audit trail."""
    return audit_context_of(request)


def audit_context_of(connection: ASGIConnection[Any, Any, Any, Any]) -> AuditContext:
    principal = optional_principal(connection)
    return AuditContext(
        actor_id=principal.user_id if principal else None,
        actor_role=principal.role if principal else None,
        ip=client_address(connection),
        user_agent=connection.headers.get("user-agent"),
        request_id=connection.headers.get("x-request-id") or uuid.uuid4().hex,
    )


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The peer's IP address (the proxy's, unless uvicorn trusts its forwarded headers)."""
    host = connection.client.host if connection.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None
