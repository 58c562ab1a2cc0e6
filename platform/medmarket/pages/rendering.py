"""Rendering a page: the context every template gets (``t``, ``fmt``, the signed-in person,
the form token, static URLs) and the headers every page carries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from medmarket.accounts.guards import SESSION_COOKIE, optional_principal
from medmarket.pages.assets import WebAssets
from medmarket.pages.formatting import Formatter
from medmarket.pages.forms import FORM_COOKIE, anonymous_form_token, new_form_cookie
from medmarket.pages.i18n import (
    LOCALE_COOKIE,
    LOCALE_COOKIE_MAX_AGE,
    SUPPORTED_LOCALES,
    Translator,
    choose_locale,
)
from medmarket.settings import Settings

# Scripts and styles come only from this site; media and WebSockets are for the video pages.
_CSP: Final = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:", "blob:"),
    "media-src": ("'self'", "blob:", "mediastream:"),
    "connect-src": ("'self'", "ws:", "wss:"),
    "frame-src": ("'none'",),
    "frame-ancestors": ("'none'",),
    "form-action": ("'self'",),
    "base-uri": ("'none'",),
    "object-src": ("'none'",),
}


def content_security_policy(**extra: Sequence[str]) -> str:
    """The pages' policy, with more sources for some directives: a payment page lets the
    gateway's script run and talk to its server (``script_src=["https://js.stripe.com"]``)."""
    policy = {name: list(sources) for name, sources in _CSP.items()}
    for key, sources in extra.items():
        name = key.replace("_", "-")
        kept = [source for source in policy.get(name, []) if source != "'none'"]
        policy[name] = kept + [source for source in sources if source not in kept]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


# Pages hold personal data and, after a failed sign-up, what was typed: never cache them.
PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": content_security_policy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
}


def web_assets(connection: ASGIConnection[Any, Any, Any, Any]) -> WebAssets:
    return connection.app.state.web  # type: ignore[no-any-return]


def settings_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    return connection.app.state.settings  # type: ignore[no-any-return]


def locale_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return choose_locale(
        optional_principal(connection),
        connection.cookies.get(LOCALE_COOKIE),
        settings_of(connection).default_locale,
    )


def translator(connection: ASGIConnection[Any, Any, Any, Any]) -> Translator:
    return web_assets(connection).catalogs.translator(locale_of(connection))


def formatter(connection: ASGIConnection[Any, Any, Any, Any]) -> Formatter:
    settings = settings_of(connection)
    principal = optional_principal(connection)
    zone = principal.time_zone if principal else settings.default_time_zone
    return Formatter(locale_of(connection), zone, settings.default_time_zone)


def locale_cookie(locale: str, secure: bool) -> Cookie:
    return Cookie(
        key=LOCALE_COOKIE,
        value=locale,
        max_age=LOCALE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def current_path(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    query = connection.scope.get("query_string", b"").decode("latin-1")
    return connection.url.path + (f"?{query}" if query else "")


def page_context(
    request: Request[Any, Any, Any], cookies: Sequence[Cookie] = ()
) -> tuple[dict[str, Any], list[Cookie]]:
    """What the layout needs, and the cookies to send (the form cookie on a first visit)."""
    settings = settings_of(request)
    assets = web_assets(request)
    principal = optional_principal(request)
    locale = locale_of(request)
    out_cookies = list(cookies)
    form_cookie = request.cookies.get(FORM_COOKIE)
    if not form_cookie:
        form_cookie, cookie = new_form_cookie(settings.secure_cookies)
        out_cookies.append(cookie)
    if principal is not None:
        csrf = principal.csrf_token
    else:
        csrf = anonymous_form_token(settings.secret_key, form_cookie)
    context = {
        "t": assets.catalogs.translator(locale),
        "fmt": formatter(request),
        "locale": locale,
        "locales": SUPPORTED_LOCALES,
        "principal": principal,
        # A session cookie we could not check (error pages of unknown paths) still means
        # "probably signed in": offer "my account", which signs them in again if needed.
        "maybe_signed_in": principal is not None or SESSION_COOKIE in request.cookies,
        "csrf": csrf,
        "static_url": assets.static_url,
        "current_path": current_path(request),
    }
    return context, out_cookies


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    cookies: Sequence[Cookie] = (),
    **context: Any,
) -> Template:
    """A full page in the request's language, with the layout's context filled in."""
    values, out_cookies = page_context(request, cookies)
    return Template(
        template_name=template,
        context={**values, **context},
        status_code=status,
        headers={**PAGE_HEADERS, **(headers or {})},
        cookies=out_cookies,
    )


def page_rendered_now(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response[str]:
    """Like ``page`` but rendered before returning, so an exception handler can catch a
    failure of the template itself instead of failing while sending."""
    values, cookies = page_context(request)
    engine = request.app.template_engine
    assert engine is not None, "create_app configures templates"
    html = engine.get_template(template).render(**values, **context)
    return Response(
        content=html,
        status_code=status,
        media_type=MediaType.HTML,
        headers={**PAGE_HEADERS, **(headers or {})},
        cookies=cookies,
    )


def see_other(path: str) -> Redirect:
    """After a form's POST: 303 to the next page (a reload never posts again)."""
    return Redirect(path, status_code=HTTP_303_SEE_OTHER)
