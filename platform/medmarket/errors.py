"""Errors as values users can act on: RFC 9457 problem details.

Domain code raises a ``Problem`` (or a subclass); the handlers here turn it, litestar's own
HTTP and validation errors, and anything unexpected into ``application/problem+json`` with a
stable ``type``. Nothing from a stack trace leaves the server.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import msgspec
import redis.exceptions
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"
log = logging.getLogger("medmarket.errors")


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str
    code: str = "invalid"


class Problem(Exception):
    """An error the client can act on. ``slug`` becomes the stable ``type`` URI."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        field: str | None = None,
        code: str = "invalid",
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors or [])
        if field is not None and not self.errors:
            self.errors.append(FieldError(field=field, message=self.detail, code=code))
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            document["instance"] = instance
        if self.errors:
            document["errors"] = [msgspec.to_builtins(error) for error in self.errors]
        document.update(self.extra)
        return document


class InvalidInput(Problem):
    status, slug, title = 422, "validation", "The request has invalid fields"


class MalformedRequest(Problem):
    status, slug, title = 400, "malformed-request", "The request could not be read"


class NotAuthenticated(Problem):
    status, slug, title = 401, "not-authenticated", "Sign in first"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "You may not do this"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "This conflicts with the current state"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "The upload is too large"


class UnsupportedMedia(Problem):
    status, slug, title = 415, "unsupported-media", "This kind of file is not accepted"


class TooManyRequests(Problem):
    status, slug, title = 429, "too-many-requests", "Too many attempts; wait before trying again"

    def __init__(self, detail: str | None = None, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **extra)
        self.extra["retry_after"] = retry_after


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", "A service this needs is not answering"


class InternalError(Problem):
    status, slug, title = 500, "internal", "Something went wrong on our side"


# -- outages of what every request stands on -------------------------------------------------
# Losing the connection to PostgreSQL or Redis (refused, reset, shut down, full) is not the
# client's fault nor a bug: it is a 503 the client may retry, from any route, without each
# route catching it.
DEPENDENCY_OUTAGES: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or was closed
    asyncpg.CannotConnectNowError,  # the server is starting up
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    redis.exceptions.ConnectionError,  # also Redis loading its data, or out of connections
    redis.exceptions.TimeoutError,
    ConnectionError,  # the operating system's: refused, reset, broken pipe
)
OUTAGE_RETRY_AFTER_SECONDS = 5


def outage_problem(exc: Exception) -> ServiceUnavailable:
    log.warning("a dependency is not answering: %s: %s", type(exc).__name__, exc)
    problem = ServiceUnavailable(
        "a service this needs is not answering; try again in a moment",
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
    )
    problem.extra["retry_after"] = OUTAGE_RETRY_AFTER_SECONDS
    return problem


def handle_outage(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return problem_response(request, outage_problem(exc))


_MSGSPEC_PATH = re.compile(r"at `\$\.([A-Za-z_][\w.\[\]]*)`")
_MSGSPEC_MISSING = re.compile(r"missing required field `(\w+)`")


def from_validation_error(exc: msgspec.ValidationError, fallback_field: str) -> FieldError:
    """A msgspec complaint about a value converted to a Struct (a form, a JSON body), as a
    field error (its path, ``prior_diagnosis.institution``, names the field)."""
    message = str(exc)
    path = _MSGSPEC_PATH.search(message)
    missing = _MSGSPEC_MISSING.search(message)
    field = path[1] if path else ""
    if missing:
        field = f"{field}.{missing[1]}" if field else missing[1]
    code = "too-long" if "length <=" in message else "required" if missing else "invalid"
    return FieldError(field=field or fallback_field, message=message, code=code)


def problem_response(request: Request[Any, Any, Any], problem: Problem) -> Response[Any]:
    return Response(
        content=problem.body(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


_NAMED_FIELD = re.compile(r"field `([^`]+)`")
_BODY_PARAMETER = "data"  # litestar's name for the request body


def _field_of(key: str, message: str) -> str:
    """The field a message is about; litestar names the whole body "data" when msgspec
    complains about a missing or unknown field, whose name is then in the message."""
    named = _NAMED_FIELD.search(message)
    if key in ("", _BODY_PARAMETER, "body") and named:
        return named[1]
    return key or "body"


def _from_validation(exc: ValidationException) -> Problem:
    errors: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid"))
            field = _field_of(str(item.get("key") or ""), message)
            errors.append(FieldError(field=field, message=message))
    unreadable = any(
        "decode" in e.message.lower() or "malformed" in e.message.lower() for e in errors
    )
    if not errors or unreadable:
        detail = errors[0].message if errors else str(exc.detail)
        return MalformedRequest(detail, errors=errors)
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return InvalidInput(detail, errors=errors)


def _from_http(exc: HTTPException) -> Problem:
    if isinstance(exc, NotAuthorizedException):
        return NotAuthenticated()
    if isinstance(exc, PermissionDeniedException):
        return Forbidden()
    if exc.status_code == 400:
        return MalformedRequest(str(exc.detail))
    problem = Problem(str(exc.detail))
    problem.status = exc.status_code
    problem.slug = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
        exc.status_code, "http-error"
    )
    problem.title = str(exc.detail)
    problem.headers = dict(exc.headers or {})
    return problem


_KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)")


def _key_columns(exc: asyncpg.IntegrityConstraintViolationError) -> list[str]:
    """The columns PostgreSQL names in the violation's detail ("Key (a, b)=(...) ...")."""
    named = _KEY_COLUMNS.search(getattr(exc, "detail", None) or "")
    return [column.strip().strip('"') for column in named[1].split(",")] if named else []


def _checked_column(exc: asyncpg.IntegrityConstraintViolationError) -> str:
    """The column of a CHECK or NOT NULL violation: named by PostgreSQL, or by its constraint's
    default name ``<table>_<column>_check``."""
    column = getattr(exc, "column_name", None)
    if column:
        return str(column)
    constraint = str(getattr(exc, "constraint_name", None) or "")
    table = str(getattr(exc, "table_name", None) or "")
    if table and constraint.startswith(table + "_"):
        constraint = constraint[len(table) + 1 :]
    return constraint.removesuffix("_check") or "body"


def _from_integrity(exc: asyncpg.IntegrityConstraintViolationError) -> Problem:
    """A constraint the database enforces, broken by what the client asked: 409 when it
    collides with what exists (unique, exclusion, still referenced), 422 when a value is not
    allowed (unknown reference, check, missing). A unique key's last column is the one that
    collides (keys put their scope first: ``UNIQUE (hospital_id, effective_from)``). Values
    are never echoed."""
    log.info("refused by constraint %s: %s", getattr(exc, "constraint_name", None), exc)
    columns = _key_columns(exc)
    if isinstance(exc, asyncpg.UniqueViolationError | asyncpg.ExclusionViolationError):
        field = columns[-1] if columns else "body"
        return Conflict(f"{field}: this value is already taken", field=field, code="taken")
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        field = columns[0] if columns else "body"
        if "still referenced" in (getattr(exc, "detail", None) or ""):
            return Conflict(
                "other records still refer to this", field=field, code="still-referenced"
            )
        return InvalidInput(f"{field}: no such record", field=field, code="unknown-reference")
    if isinstance(exc, asyncpg.NotNullViolationError):
        field = _checked_column(exc)
        return InvalidInput(f"{field}: a value is required", field=field, code="required")
    field = _checked_column(exc)
    return InvalidInput(f"{field}: this value is not allowed", field=field, code="not-allowed")


def as_problem(exc: Exception) -> Problem:
    """Any exception as the problem its client sees (the internals of a 500 stay hidden)."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, ValidationException):
        return _from_validation(exc)
    if isinstance(exc, HTTPException):
        return _from_http(exc)
    if isinstance(exc, DEPENDENCY_OUTAGES):
        return outage_problem(exc)
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return _from_integrity(exc)
    if isinstance(exc, asyncpg.DataError):
        # A value the database cannot hold (out of range, unrepresentable): the client's
        # input, not our failure; the first line says which kind without echoing internals.
        log.warning("refused a value the database cannot store: %s", exc)
        return InvalidInput("a value is out of range or cannot be stored", code="out-of-range")
    return InternalError()


def handle_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    return problem_response(request, exc)


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return problem_response(request, _from_validation(exc))


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return problem_response(request, _from_http(exc))


def handle_refused_by_database(
    request: Request[Any, Any, Any],
    exc: asyncpg.DataError | asyncpg.IntegrityConstraintViolationError,
) -> Response[Any]:
    return problem_response(request, as_problem(exc))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        content={
            "type": PROBLEM_BASE + "internal",
            "title": "Something went wrong on our side",
            "status": 500,
            "instance": request.url.path,
        },
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=PROBLEM_JSON,
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    Problem: handle_problem,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    asyncpg.DataError: handle_refused_by_database,
    asyncpg.IntegrityConstraintViolationError: handle_refused_by_database,
    Exception: handle_unexpected,
    **dict.fromkeys(DEPENDENCY_OUTAGES, handle_outage),
}

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "Conflict",
    "FieldError",
    "Forbidden",
    "InternalError",
    "InvalidInput",
    "MalformedRequest",
    "NotAuthenticated",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "ServiceUnavailable",
    "TooManyRequests",
    "UnsupportedMedia",
    "as_problem",
    "from_validation_error",
]
