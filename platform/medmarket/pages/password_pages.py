"""Forgetting a password: ask for a link (``/forgot-password``), then choose a new password
with it (``/reset-password?token=...``), then sign in. Thin handlers over
``accounts/resets.py``; the forms work without JavaScript, like every other."""

from __future__ import annotations

from typing import Annotated, Any, Final

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import CSRF_COOKIE, PUBLIC, SESSION_COOKIE, optional_principal
from medmarket.accounts.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from medmarket.accounts.resets import PasswordResets
from medmarket.accounts.routes import device_cookie
from medmarket.audit import AuditContext
from medmarket.errors import Problem
from medmarket.pages.forms import FormState, form_fields
from medmarket.pages.rendering import page, see_other, settings_of, translator

REQUEST_FIELDS: Final = ("email",)
RESET_FIELDS: Final = ("token", "password")
# The link's token is in the reset page's address: never send it on in a Referer.
_NO_REFERRER: Final = {"Referrer-Policy": "no-referrer"}

Query = Annotated[str | None, QueryParameter(max_length=2000)]


def _request_page(
    request: Request[Any, Any, Any],
    form: FormState,
    *,
    sent: bool = False,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return page(
        request,
        "forgot_password.html",
        status=status,
        headers=headers,
        form=form,
        sent=sent,
        minutes=settings_of(request).password_reset_ttl_seconds // 60,
    )


@get("/forgot-password")
async def forgot_password_form(request: Request[Any, Any, Any], sent: Query = None) -> Template:
    return _request_page(request, FormState(), sent=bool(sent))


@post("/forgot-password")
async def forgot_password_submit(
    request: Request[Any, Any, Any],
    password_resets: NamedDependency[PasswordResets],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {"email": submitted.get("email", "")}
    t = translator(request)
    form = FormState(values=values)
    if not values["email"].strip():
        form.add("email", t("error.required"))
        return _request_page(request, form, status=422)
    try:
        await password_resets.request(values["email"], context)
    except Problem as problem:
        form = FormState.from_problem(problem, t, values, REQUEST_FIELDS)
        return _request_page(request, form, status=problem.status, headers=problem.headers)
    return see_other("/forgot-password?sent=1")


def _reset_page(
    request: Request[Any, Any, Any],
    form: FormState,
    *,
    broken: bool,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return page(
        request,
        "reset_password.html",
        status=status,
        headers={**_NO_REFERRER, **(headers or {})},
        form=form,
        broken=broken,
        password_min_length=MIN_PASSWORD_LENGTH,
    )


@get("/reset-password")
async def reset_password_form(
    request: Request[Any, Any, Any],
    password_resets: NamedDependency[PasswordResets],
    token: Query = None,
) -> Template:
    usable = bool(token) and await password_resets.is_open(token or "")
    return _reset_page(request, FormState(values={"token": token or ""}), broken=not usable)


@post("/reset-password")
async def reset_password_submit(
    request: Request[Any, Any, Any],
    password_resets: NamedDependency[PasswordResets],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "") for name in RESET_FIELDS}
    t = translator(request)
    if not values["password"]:
        form = FormState(values=values)
        form.add("password", t("error.required"))
        return _reset_page(request, form, broken=False, status=422)
    try:
        user_id = await password_resets.confirm(values["token"], values["password"], context)
    except Problem as problem:
        form = FormState.from_problem(
            problem, t, values, RESET_FIELDS, params={"min_length": MIN_PASSWORD_LENGTH}
        )
        return _reset_page(
            request,
            form,
            broken=form.error("token") is not None,
            status=problem.status,
            headers=problem.headers,
        )
    response = see_other("/sign-in?reset=1")
    principal = optional_principal(request)
    if principal is not None and principal.user_id == user_id:
        # Every session of the account has ended, this browser's too.
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
    # This browser has just proved it is the owner's: a known device from now on.
    response.set_cookie(device_cookie(request, user_id))
    return response


# Open to anyone: who has forgotten their password is not signed in.
PASSWORD_PAGES = Router(
    path="/",
    opt=PUBLIC,
    route_handlers=[
        forgot_password_form,
        forgot_password_submit,
        reset_password_form,
        reset_password_submit,
    ],
)
