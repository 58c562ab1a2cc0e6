"""HTML forms: what was typed, the errors beside each field, and the proof that a POST came
from one of our own pages.

A service raises a problem whose ``errors[].field`` names the field; ``FormState.from_problem``
puts each message beside that field in the person's language (catalog key
``error.<field>.<code>``, then ``error.<code>``, else the service's own words), so page
handlers never repeat a service's rules.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers.base import BaseRouteHandler

from medmarket.accounts.guards import authenticate, submitted_csrf_token
from medmarket.errors import FieldError, Forbidden, InvalidInput, Problem, from_validation_error
from medmarket.pages.i18n import Translator

# Signed-out visitors have no session and so no session CSRF token; their forms carry a token
# derived from this random cookie instead, so another site cannot sign someone in (or switch
# their language) behind their back.
FORM_COOKIE: Final = "mm_form"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")
# What an HTML form on another site can send without a CORS preflight.
_CROSS_SITE_SENDABLE = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


@dataclass
class FormState:
    """Values to put back into the fields, and the errors to show beside them."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # A message about the whole form (wrong password, too many attempts).
    message: str | None = None

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    def first_invalid(self, order: Iterable[str]) -> str | None:
        """The first field (in page order) with an error: it gets the focus."""
        return next((name for name in order if name in self.errors), None)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.message)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @classmethod
    def from_problem(
        cls,
        problem: Problem,
        t: Translator,
        values: Mapping[str, str],
        fields: Iterable[str],
        params: Mapping[str, Any] | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> FormState:
        """``params`` fill the catalog messages' placeholders (``{min_length}``). ``aliases``
        maps a service's field names to the form's (``prior_diagnosis.institution`` →
        ``institution``); a field the form does not have lands on its nearest parent that it
        has (``config.staff[0].title`` → ``config.staff``), else on the whole form."""
        state = cls(values=dict(values))
        known = set(fields)
        for error in problem.errors:
            name = form_field(error.field, known, aliases or {})
            if name is not None:
                state.add(name, field_message(t, error, params or {}, problem.slug, name))
            else:
                # About something the form does not show (the slot someone else took):
                # the problem's own words for the whole form.
                message = (
                    t.get(f"error.{error.field}.{error.code}", **(params or {}))
                    or t.get(f"problem.{problem.slug}")
                    or error.message
                )
                state.message = state.message or message
        if not state.errors and state.message is None:
            state.message = problem_message(t, problem)
        return state


_INDEX = re.compile(r"\[\d+\]")
_LAST_PART = re.compile(r"(\.[^.\[\]]+|\[[^\]]*\])$")


def form_field(field: str, known: set[str], aliases: Mapping[str, str]) -> str | None:
    """The form's field for a service's error field, or None for the whole form."""
    name = aliases.get(field, field)
    while name:
        if name in known:
            return name
        shorter = _LAST_PART.sub("", name)
        if shorter == name:
            return None
        name = aliases.get(shorter, shorter)
    return None


def field_message(
    t: Translator,
    error: FieldError,
    params: Mapping[str, Any],
    slug: str | None = None,
    name: str | None = None,
) -> str:
    """The catalog's words for an error beside the form's field ``name``: by field and code
    (by field and the problem's kind first when the code is the generic ``invalid``), then
    by code alone, else the service's own words."""
    # A row's field (weekly[2]) is worded like the rows' field (weekly).
    candidates = (name or error.field, error.field)
    unindexed = tuple(_INDEX.sub("", candidate) for candidate in candidates)
    names = list(dict.fromkeys(candidates + unindexed))
    keys = [f"error.{named}.{slug}" for named in names] if error.code == "invalid" and slug else []
    keys += [f"error.{named}.{error.code}" for named in names]
    keys.append(f"error.{error.code}")
    for key in keys:
        message = t.get(key, **params)
        if message:
            return message
    return error.message


def problem_message(t: Translator, problem: Problem) -> str:
    retry_after = int(problem.extra.get("retry_after", 0) or 0)
    minutes = max(1, -(-retry_after // 60))
    return t.get(f"problem.{problem.slug}", minutes=minutes) or problem.detail


def parse_form(
    struct_type: type[T],
    body: Mapping[str, Any],
    required: Iterable[str] = (),
    *,
    typed: Mapping[str, str] | None = None,
) -> T:
    """A form's values as the service's request Struct. Every empty required field is named
    at once (code ``required``; looked up in ``typed``, the form as typed, when the body
    nests them); then msgspec's first complaint names its field. Only the shape is checked
    here: the rules stay in the service."""
    source: Mapping[str, Any] = typed if typed is not None else body
    missing = [
        FieldError(field=name, message="required", code="required")
        for name in required
        if not str(source.get(name) or "").strip()
    ]
    if missing:
        raise InvalidInput("fill in the required fields", errors=missing)
    try:
        # Not strict: a form's values are all text ("5" is the rating 5).
        return msgspec.convert(dict(body), struct_type, strict=False)
    except msgspec.ValidationError as exc:
        fallback = next(iter(body), "form")
        raise InvalidInput(errors=[from_validation_error(exc, fallback)]) from None


async def form_fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as text fields (an uploaded file is not text and is left out)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never ``//other.host`` or ``https://...`` (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(character) < 32 for character in target):
        return default
    return target


# -- the signed-out form token -------------------------------------------------------------
def new_form_cookie(secure: bool) -> tuple[str, Cookie]:
    value = secrets.token_urlsafe(24)
    cookie = Cookie(
        key=FORM_COOKIE, value=value, httponly=True, samesite="lax", secure=secure, path="/"
    )
    return value, cookie


def anonymous_form_token(secret_key: str, cookie_value: str) -> str:
    digest = hmac.new(secret_key.encode(), b"form:" + cookie_value.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


async def form_token_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App-wide, after the access guard. Any unsafe request whose body another site could
    send from a plain HTML form (form-encoded, multipart, text/plain) must carry ``_csrf``
    (or the X-CSRF-Token header): the session's token when signed in, else the token of the
    form cookie. This covers public routes too: nobody can be signed in, signed up or
    switched to another language by another site. JSON bodies cannot be sent cross-site
    without a CORS preflight, and bearer tokens are never sent by a browser on its own."""
    if connection.scope.get("method") in _SAFE_METHODS:
        return
    content_type = connection.headers.get("content-type", "").lower()
    if not content_type.startswith(_CROSS_SITE_SENDABLE):
        return
    if connection.headers.get("authorization", "").lower().startswith("bearer "):
        return
    submitted = (await submitted_csrf_token(connection)).encode()
    accepted: list[str] = []
    principal = await authenticate(connection)
    if principal is not None:
        accepted.append(principal.csrf_token)
    cookie = connection.cookies.get(FORM_COOKIE)
    if cookie:
        accepted.append(anonymous_form_token(connection.app.state.settings.secret_key, cookie))
    if not any(hmac.compare_digest(submitted, token.encode()) for token in accepted):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again", code="csrf")
