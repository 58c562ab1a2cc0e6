"""The pages people use: home, sign-up, sign-in, sign-out, my account, the language switch
(forgetting a password: ``password_pages.py``).

Thin handlers: the accounts service holds every rule; a handler turns a form into the
service's request, and a problem the service raises into errors beside the fields. Forms
work without JavaScript (POST, then 303 to the next page); scripts only enhance them.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from medmarket.accounts.devices import DEVICE_COOKIE
from medmarket.accounts.guards import (
    CSRF_COOKIE,
    PUBLIC,
    SESSION_COOKIE,
    SIGNED_IN,
    optional_principal,
    session_token,
)
from medmarket.accounts.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from medmarket.accounts.routes import device_cookie, session_cookies
from medmarket.accounts.schemas import Locale, PreferencesRequest, SignUpRequest
from medmarket.accounts.service import Accounts, Principal
from medmarket.audit import AuditContext
from medmarket.errors import InvalidInput, NotAuthenticated, Problem, from_validation_error
from medmarket.pages.forms import FormState, form_fields, problem_message, safe_next
from medmarket.pages.i18n import SUPPORTED_LOCALES
from medmarket.pages.password_pages import PASSWORD_PAGES
from medmarket.pages.rendering import (
    locale_cookie,
    locale_of,
    page,
    see_other,
    settings_of,
    translator,
)
from medmarket.pharmacies.members import PharmacyMembers

SIGN_UP_FIELDS = ("display_name", "email", "password", "role", "invitation")
SIGN_IN_FIELDS = ("email", "password")
PREFERENCE_FIELDS = ("locale", "time_zone")
# Zones offered as suggestions; any IANA name may be typed.
COMMON_TIME_ZONES = (
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
)

Query = Annotated[str | None, QueryParameter(max_length=2000)]
NextPath = Annotated[str | None, QueryParameter(name="next", max_length=2000)]


# -- home -------------------------------------------------------
@get("/")
async def home(request: Request[Any, Any, Any]) -> Template:
    return page(request, "home.html")


# -- sign-up -------------------------------------------------------------------------------
async def _sign_up_page(
    request: Request[Any, Any, Any],
    accounts: Accounts,
    form: FormState,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    token = form.value("invitation")
    invitation = await accounts.invitation(token) if token else None
    if invitation is not None and not form.value("email"):
        form.values["email"] = invitation.email
    return page(
        request,
        "sign_up.html",
        status=status,
        headers=headers,
        form=form,
        invitation=invitation,
        invitation_broken=bool(token) and invitation is None,
        password_min_length=MIN_PASSWORD_LENGTH,
    )


@get("/sign-up")
async def sign_up_form(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[Accounts],
    invitation: Query = None,
    role: Query = None,
) -> Template:
    values = {"invitation": invitation or "", "role": role if role == "doctor" else "patient"}
    return await _sign_up_page(request, accounts, FormState(values=values))


@post("/sign-up")
async def sign_up_submit(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "") for name in SIGN_UP_FIELDS}
    body: dict[str, Any] = {
        "email": values["email"],
        "password": values["password"],
        "display_name": values["display_name"],
        "locale": locale_of(request),
    }
    if values["invitation"]:
        body["invitation"] = values["invitation"]
    else:
        body["role"] = values["role"] or "patient"
    try:
        try:
            signup = msgspec.convert(body, SignUpRequest)
        except msgspec.ValidationError as exc:
            raise InvalidInput(errors=[from_validation_error(exc, "email")]) from None
        await accounts.sign_up(signup, context)
    except Problem as problem:
        form = FormState.from_problem(
            problem,
            translator(request),
            values,
            SIGN_UP_FIELDS,
            params={"min_length": MIN_PASSWORD_LENGTH},
        )
        return await _sign_up_page(
            request, accounts, form, status=problem.status, headers=problem.headers
        )
    try:
        token, principal = await accounts.sign_in(
            signup.email,
            signup.password,
            "browser",
            context,
            device=request.cookies.get(DEVICE_COOKIE),
        )
    except Problem as problem:
        # The address had an account (its owner has been told how to get in) and this is
        # not its password, or signing in must wait: the sign-in page says what to do.
        t = translator(request)
        form = FormState(values={"email": signup.email, "next": ""})
        if isinstance(problem, NotAuthenticated):
            return page(request, "sign_in.html", form=form, notice=t("sign_up.check_messages"))
        form.message = problem_message(t, problem)
        return page(
            request, "sign_in.html", status=problem.status, headers=problem.headers, form=form
        )
    # A patient goes on to the real-name details and the health-data consent (two steps);
    # everyone else to their account, which says what comes next.
    target = "/profile?signup=1" if principal.role == "patient" else "/account?welcome=1"
    return _signed_in(request, token, principal, target)


# -- sign-in and sign-out ------------------------------------------------------------------
def _signed_in(
    request: Request[Any, Any, Any], token: str, principal: Principal, target: str
) -> Redirect:
    settings = settings_of(request)
    cookies = [
        *session_cookies(request, token, principal.csrf_token, settings.session_ttl_seconds),
        device_cookie(request, principal.user_id),
        # The saved language follows the person into this browser, even after sign-out.
        locale_cookie(principal.locale, settings.secure_cookies),
    ]
    return Redirect(target, status_code=HTTP_303_SEE_OTHER, cookies=cookies)


@get("/sign-in")
async def sign_in_form(
    request: Request[Any, Any, Any], next_path: NextPath = None, reset: Query = None
) -> Template:
    form = FormState(values={"next": safe_next(next_path, "")})
    notice = translator(request)("sign_in.password_changed") if reset else None
    return page(request, "sign_in.html", form=form, notice=notice)


@post("/sign-in")
async def sign_in_submit(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    # The password is not put back: it was wrong, and retyping it is what the person expects.
    values = {"email": submitted.get("email", ""), "next": safe_next(submitted.get("next"), "")}
    password = submitted.get("password", "")
    t = translator(request)
    form = FormState(values=values)
    for name, value in (("email", values["email"]), ("password", password)):
        if not value.strip():
            form.add(name, t("error.required"))
    if form.has_errors:
        return page(request, "sign_in.html", status=422, form=form)
    try:
        token, principal = await accounts.sign_in(
            values["email"],
            password,
            "browser",
            context,
            device=request.cookies.get(DEVICE_COOKIE),
        )
    except Problem as problem:
        form = FormState.from_problem(problem, t, values, SIGN_IN_FIELDS)
        if isinstance(problem, NotAuthenticated):
            form.message = t("sign_in.wrong")
        return page(
            request, "sign_in.html", status=problem.status, headers=problem.headers, form=form
        )
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        # Signing in as someone else in this browser ends the earlier session.
        await accounts.sign_out(previous, context)
    return _signed_in(request, token, principal, values["next"] or "/account")


@post("/sign-out")
async def sign_out(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> Redirect:
    token = session_token(request)
    if token:
        await accounts.sign_out(token, context)
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


# -- my account ----------------------------------------------------------------------------
async def _account_page(
    request: Request[Any, Any, Any],
    accounts: Accounts,
    principal: Principal,
    form: FormState | None = None,
    *,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    user = await accounts.user(principal.user_id)
    form = form or FormState(values={"locale": user.locale, "time_zone": user.time_zone})
    # A pharmacist sees the pharmacy they work in (its review desk is /review-desk).
    mine = None
    if principal.role == "pharmacist":
        mine = await PharmacyMembers(request.app.state.services.db).mine(principal)
    return page(
        request,
        "account.html",
        status=status,
        user=user,
        form=form,
        notice=notice,
        time_zones=COMMON_TIME_ZONES,
        pharmacy=mine.pharmacy if mine else None,
    )


@get("/")
async def account(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    accounts: NamedDependency[Accounts],
    welcome: Query = None,
    saved: Query = None,
) -> Template:
    notice = "welcome" if welcome else "saved" if saved else None
    return await _account_page(request, accounts, principal, notice=notice)


@post("/preferences")
async def save_preferences(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in PREFERENCE_FIELDS}
    try:
        try:
            preferences = msgspec.convert(
                {name: value or None for name, value in values.items()}, PreferencesRequest
            )
        except msgspec.ValidationError as exc:
            raise InvalidInput(errors=[from_validation_error(exc, "time_zone")]) from None
        user = await accounts.update_preferences(principal.user_id, preferences, context)
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values, PREFERENCE_FIELDS)
        return await _account_page(request, accounts, principal, form, status=problem.status)
    settings = settings_of(request)
    response = see_other("/account?saved=1")
    response.set_cookie(locale_cookie(user.locale, settings.secure_cookies))
    return response


# -- the language switch -------------------------------------------------------------------
@post("/language")
async def switch_language(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[Accounts],
    context: NamedDependency[AuditContext],
) -> Redirect:
    """Works signed out (a cookie); signed in, the choice is also saved with the account."""
    submitted = await form_fields(request)
    target = safe_next(submitted.get("next"))
    locale = submitted.get("locale", "")
    response = see_other(target)
    if locale not in SUPPORTED_LOCALES:
        return response
    principal = optional_principal(request)
    if principal is not None and principal.locale != locale:
        await accounts.update_preferences(
            principal.user_id, PreferencesRequest(locale=cast(Locale, locale)), context
        )
    response.set_cookie(locale_cookie(locale, settings_of(request).secure_cookies))
    return response


ROUTES = [
    Router(
        path="/",
        include_in_schema=False,
        route_handlers=[
            # The way in, open to anyone.
            Router(
                path="/",
                opt=PUBLIC,
                route_handlers=[
                    home,
                    sign_up_form,
                    sign_up_submit,
                    sign_in_form,
                    sign_in_submit,
                    switch_language,
                ],
            ),
            PASSWORD_PAGES,
            Router(path="/", opt=SIGNED_IN, route_handlers=[sign_out]),
            Router(path="/account", opt=SIGNED_IN, route_handlers=[account, save_preferences]),
        ],
    )
]
