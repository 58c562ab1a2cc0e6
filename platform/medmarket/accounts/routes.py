"""Accounts API: sign-up, browser sessions, API tokens, password resets, invitations."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from medmarket.accounts.devices import DEVICE_COOKIE, DEVICE_MAX_AGE
from medmarket.accounts.guards import (
    CSRF_COOKIE,
    PUBLIC,
    SESSION_COOKIE,
    SIGNED_IN,
    allow,
    session_token,
)
from medmarket.accounts.resets import PasswordResets
from medmarket.accounts.schemas import (
    InvitationOut,
    InvitationRequest,
    PasswordResetAccepted,
    PasswordResetConfirm,
    PasswordResetRequest,
    PreferencesRequest,
    SessionOut,
    SignInRequest,
    SignUpAccepted,
    SignUpRequest,
    TokenOut,
    UserOut,
)
from medmarket.accounts.service import Accounts, Principal
from medmarket.audit import AuditContext
from medmarket.openapi import answers


def provide_accounts(request: Request[Any, Any, Any]) -> Accounts:
    return request.app.state.accounts  # type: ignore[no-any-return]


def provide_password_resets(request: Request[Any, Any, Any]) -> PasswordResets:
    return request.app.state.password_resets  # type: ignore[no-any-return]


def device_cookie(request: Request[Any, Any, Any], user_id: uuid.UUID) -> Cookie:
    """The known-device cookie (devices.py) renewed for ``user_id``: sent wherever the
    person proved who they are, so this browser's next sign-ins count as a known place."""
    accounts: Accounts = request.app.state.accounts
    return Cookie(
        key=DEVICE_COOKIE,
        value=accounts.devices.issue(request.cookies.get(DEVICE_COOKIE), user_id),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        max_age=DEVICE_MAX_AGE,
        path="/",
    )


def session_cookies(
    request: Request[Any, Any, Any], token: str, csrf: str, max_age: int
) -> list[Cookie]:
    secure = request.app.state.settings.secure_cookies
    return [
        Cookie(
            key=SESSION_COOKIE,
            value=token,
            httponly=True,
            samesite="lax",
            secure=secure,
            max_age=max_age,
            path="/",
        ),
        # Readable by our scripts, which echo it in the X-CSRF-Token header.
        Cookie(
            key=CSRF_COOKIE,
            value=csrf,
            httponly=False,
            samesite="lax",
            secure=secure,
            max_age=max_age,
            path="/",
        ),
    ]


@post("/", opt=answers(429), status_code=HTTP_202_ACCEPTED)
async def sign_up(
    data: JSONBody[SignUpRequest],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> SignUpAccepted:
    """Create an account. Patients and doctors sign up themselves; staff need an invitation.
    The answer is the same when the address already has an account (its owner is told by
    notification), so it does not say who has an account: sign in next."""
    return await accounts.sign_up(data, context)


@post("/", opt={**PUBLIC, **answers(401, 429)})
async def sign_in_browser(
    request: Request[Any, Any, Any],
    data: JSONBody[SignInRequest],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> Response[SessionOut]:
    """Sign in from a browser: the session travels in an HttpOnly cookie."""
    token, principal = await accounts.sign_in(
        data.email, data.password, "browser", context, device=request.cookies.get(DEVICE_COOKIE)
    )
    user = await accounts.user(principal.user_id)
    body = SessionOut(user=user, csrf_token=principal.csrf_token, expires_at=principal.expires_at)
    max_age = request.app.state.settings.session_ttl_seconds
    cookies = session_cookies(request, token, principal.csrf_token, max_age)
    return Response(body, cookies=[*cookies, device_cookie(request, principal.user_id)])


@post("/", opt=answers(401, 429), status_code=HTTP_201_CREATED)
async def sign_in_api(
    request: Request[Any, Any, Any],
    data: JSONBody[SignInRequest],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> Response[TokenOut]:
    """Sign in as an API client: returns a bearer token. A client that keeps the
    ``mm_device`` cookie it is given counts as a known device on its next sign-ins."""
    token, principal = await accounts.sign_in(
        data.email, data.password, "api", context, device=request.cookies.get(DEVICE_COOKIE)
    )
    user = await accounts.user(principal.user_id)
    body = TokenOut(user=user, token=token, expires_at=principal.expires_at)
    return Response(
        body, status_code=HTTP_201_CREATED, cookies=[device_cookie(request, principal.user_id)]
    )


@post("/", opt=answers(429), status_code=HTTP_202_ACCEPTED)
async def request_password_reset(
    data: JSONBody[PasswordResetRequest],
    password_resets: NamedDependency[PasswordResets],
    context: NamedDependency[AuditContext],
) -> PasswordResetAccepted:
    """Send a link to choose a new password to the account of this address, through its
    notification channels. The answer is the same whether or not an account uses it."""
    return await password_resets.request(data.email, context)


@post("/confirm", status_code=HTTP_204_NO_CONTENT)
async def confirm_password_reset(
    request: Request[Any, Any, Any],
    data: JSONBody[PasswordResetConfirm],
    password_resets: NamedDependency[PasswordResets],
    context: NamedDependency[AuditContext],
) -> Response[None]:
    """Set a new password with the link's token. The link then no longer works, and every
    session of the account has ended: sign in with the new password."""
    user_id = await password_resets.confirm(data.token, data.password, context)
    return Response(
        None, status_code=HTTP_204_NO_CONTENT, cookies=[device_cookie(request, user_id)]
    )


@delete("/", status_code=HTTP_204_NO_CONTENT)
async def sign_out(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> Response[None]:
    """End the current session (cookie or bearer token)."""
    token = session_token(request)
    if token:
        await accounts.sign_out(token, context)
    response: Response[None] = Response(None, status_code=HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@get("/")
async def me(principal: NamedDependency[Principal], accounts: NamedDependency[Accounts]) -> UserOut:
    return await accounts.user(principal.user_id)


@patch("/")
async def update_me(
    data: JSONBody[PreferencesRequest],
    principal: NamedDependency[Principal],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> UserOut:
    """Change your language (``zh-CN`` or ``en``) and time zone (an IANA name)."""
    return await accounts.update_preferences(principal.user_id, data, context)


@post("/", status_code=HTTP_201_CREATED)
async def invite(
    data: JSONBody[InvitationRequest],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> InvitationOut:
    """Invite a pharmacist, hospital admin or operator; the token is shown once."""
    return await accounts.invite(data, context)


ROUTES = [
    Router(
        path="/api",
        tags=["accounts"],
        route_handlers=[
            Router(path="/accounts", opt=PUBLIC, route_handlers=[sign_up]),
            # Signing in is open to anyone; ending one's session is not.
            Router(path="/session", opt=SIGNED_IN, route_handlers=[sign_in_browser, sign_out]),
            Router(path="/tokens", opt=PUBLIC, route_handlers=[sign_in_api]),
            Router(
                path="/password-resets",
                opt=PUBLIC,
                route_handlers=[request_password_reset, confirm_password_reset],
            ),
            Router(path="/me", opt=SIGNED_IN, route_handlers=[me, update_me]),
            Router(path="/invitations", opt=allow("operator"), route_handlers=[invite]),
        ],
    )
]
DEPENDENCIES = {
    "accounts": Provide(provide_accounts, sync_to_thread=False),
    "password_resets": Provide(provide_password_resets, sync_to_thread=False),
}
