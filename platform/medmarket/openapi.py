"""The OpenAPI document tells the truth about every operation.

litestar documents what a handler answers when it succeeds. What else an operation may answer
follows from what the route is, so it is added here, once, for every route, from the
operation litestar derived from the handler and from the handler's ``opt``:

- a guarded route answers 401 and 403, and says how to sign in (what is guarded, and how one
  signs in, the access guard says: ``accounts.guards.AUTHENTICATION``);
- a path parameter, or a body naming a record by its id (a uuid anywhere in it): 404; query
  or header parameters, or a body: 400 (unreadable) and 422 (invalid, the field named); a
  body: 413; an upload (a form body): 415;
- an unsafe method: 409 (it conflicts with the current state, which the database decides);
- every operation: 503 (PostgreSQL, Redis or a plugin is not answering);
- what a route declares with ``answers(...)`` beside its access rule (429, with Retry-After,
  where it is throttled; 401 where a credential travels in the body; 404 where the caller's
  own record may not exist yet) and, with
  ``responds_with(...)``, the media types of its success response when they are not only JSON
  (a file download, a CSV).

Each problem is ``application/problem+json`` with the ``Problem`` schema (RFC 9457).
A query parameter is absent or a value, never null: the document says so (``X | None = None``
in a handler means "optional"), and ``medmarket.strict_reading`` refuses the string "null".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import (
    Components,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.routes import HTTPRoute

from medmarket.errors import (
    PROBLEM_JSON,
    Conflict,
    Forbidden,
    InvalidInput,
    MalformedRequest,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    UnsupportedMedia,
)

JSON: Final = "application/json"
_ANSWERS = "answers"
_MEDIA_TYPES = "media_types"
_PROBLEMS: Final[dict[int, type[Problem]]] = {
    problem.status: problem
    for problem in (
        MalformedRequest,
        NotAuthenticated,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        UnsupportedMedia,
        InvalidInput,
        TooManyRequests,
        ServiceUnavailable,
    )
}
_NULL = OpenAPIType.NULL
_FORM_BODIES = ("multipart/form-data", "application/x-www-form-urlencoded")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Authentication:
    """How callers prove who they are, as the document declares it: the security schemes,
    and what an operation requires of its caller (None: anyone may call it)."""

    schemes: Mapping[str, SecurityScheme]
    requirements: Callable[[BaseRouteHandler, str], list[SecurityRequirement] | None]


def answers(*statuses: int) -> dict[str, Any]:
    """Route option, beside the access rule (``opt={**allow("doctor"), **answers(404)}``):
    problem statuses the route may answer that its shape does not imply."""
    unknown = [status for status in statuses if status not in _PROBLEMS]
    if not statuses or unknown:
        raise ValueError(f"answers() needs problem statuses of medmarket.errors, got {statuses!r}")
    return {_ANSWERS: frozenset(statuses)}


def responds_with(*media_types: str) -> dict[str, Any]:
    """Route option: the media types a successful response comes in, when it is not only
    JSON (a file download; a CSV beside JSON). JSON, when listed, keeps its schema."""
    if not media_types:
        raise ValueError("responds_with() needs at least one media type")
    return {_MEDIA_TYPES: tuple(media_types)}


def problem_schema() -> Schema:
    text = Schema(type=OpenAPIType.STRING)
    field_error = Schema(
        type=OpenAPIType.OBJECT,
        required=["field", "message", "code"],
        properties={"field": text, "message": text, "code": text},
    )
    return Schema(
        type=OpenAPIType.OBJECT,
        description="RFC 9457 problem details; `type` is stable, `errors` names the fields.",
        required=["type", "title", "status"],
        properties={
            "type": Schema(type=OpenAPIType.STRING, description="/problems/<slug>"),
            "title": text,
            "status": Schema(type=OpenAPIType.INTEGER),
            "detail": text,
            "instance": Schema(type=OpenAPIType.STRING, description="the request's path"),
            "errors": Schema(type=OpenAPIType.ARRAY, items=field_error),
        },
    )


def _problem_response(status: int) -> OpenAPIResponse:
    problem = _PROBLEMS.get(status)
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if status == TooManyRequests.status:
        headers = {
            "Retry-After": OpenAPIHeader(
                schema=Schema(type=OpenAPIType.INTEGER),
                description="seconds to wait before trying again",
                required=True,
            )
        }
    return OpenAPIResponse(
        description=problem.title if problem else HTTPStatus(status).phrase,
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))},
        headers=headers,
    )


def _response_name(status: int) -> str:
    problem = _PROBLEMS.get(status)
    return problem.__name__ if problem else f"Problem{status}"


def _without_null(schema: Schema | Reference | None) -> Schema | Reference | None:
    """The schema of a parameter that may be left out, but cannot be null in a query."""
    if not isinstance(schema, Schema):
        return schema
    for combined in ("one_of", "any_of"):
        options: list[Schema | Reference] | None = getattr(schema, combined)
        if options:
            kept = [o for o in options if not (isinstance(o, Schema) and o.type == _NULL)]
            if len(kept) == 1:
                return kept[0]
            setattr(schema, combined, kept)
    if isinstance(schema.type, list):
        types = [t for t in schema.type if t != _NULL]
        schema.type = types[0] if len(types) == 1 else types
        if schema.enum is not None:
            schema.enum = [value for value in schema.enum if value is not None]
    return schema


def names_records(
    schema: Schema | Reference | None, schemas: Mapping[str, Schema], seen: set[str]
) -> bool:
    """Whether values of ``schema`` name a record by its id (a uuid anywhere in them)."""
    if isinstance(schema, Reference):
        name = schema.ref.rsplit("/", 1)[-1]
        if name in seen:
            return False
        seen.add(name)
        schema = schemas.get(name)
    if not isinstance(schema, Schema):
        return False
    if schema.format == OpenAPIFormat.UUID:
        return True
    parts: list[Schema | Reference] = [
        *(schema.properties or {}).values(),
        *(schema.one_of or ()),
        *(schema.any_of or ()),
        *(schema.all_of or ()),
    ]
    if isinstance(schema.items, Schema | Reference):
        parts.append(schema.items)
    return any(names_records(part, schemas, seen) for part in parts)


def derived_statuses(
    operation: Operation,
    handler: HTTPRouteHandler,
    method: str,
    *,
    guarded: bool,
    schemas: Mapping[str, Schema],
) -> set[int]:
    """The problem statuses an operation may answer, from what it is."""
    statuses = {ServiceUnavailable.status, *handler.opt.get(_ANSWERS, ())}
    if guarded:
        statuses |= {NotAuthenticated.status, Forbidden.status}
    places = {p.param_in for p in operation.parameters or () if isinstance(p, Parameter)}
    body = operation.request_body
    media = body.content if body is not None and not isinstance(body, Reference) else {}
    if "path" in places or any(names_records(m.schema, schemas, set()) for m in media.values()):
        statuses.add(NotFound.status)
    if places - {"path"} or body is not None:
        statuses |= {MalformedRequest.status, InvalidInput.status}
    if body is not None:
        statuses.add(PayloadTooLarge.status)
        if any(kind in _FORM_BODIES for kind in media):
            statuses.add(UnsupportedMedia.status)
    if method not in _SAFE_METHODS:
        statuses.add(Conflict.status)
    return statuses


def _success_content(operation: Operation, handler: HTTPRouteHandler) -> None:
    media_types: tuple[str, ...] | None = handler.opt.get(_MEDIA_TYPES)
    success = operation.responses.get(str(handler.status_code)) if operation.responses else None
    if not isinstance(success, OpenAPIResponse):
        return
    if handler.status_code == HTTPStatus.NO_CONTENT:
        success.content = None
        return
    if media_types is None:
        return
    current = success.content or {}
    success.content = {
        kind: current[JSON] if kind == JSON and JSON in current else _opaque(kind)
        for kind in media_types
    }


def _opaque(media_type: str) -> OpenAPIMediaType:
    """A body the document does not describe further: text, or a file's bytes."""
    if media_type.startswith("text/"):
        return OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
    return OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, content_media_type=media_type))


def complete_operation(
    operation: Operation,
    handler: HTTPRouteHandler,
    method: str,
    authentication: Authentication,
    schemas: Mapping[str, Schema],
) -> set[int]:
    """Add what the operation may answer besides success, and who may call it. Returns the
    problem statuses it refers to in the document's components."""
    security = authentication.requirements(handler, method)
    if security is not None:
        operation.security = security
    declared = {str(status) for status in handler.responses or {}}
    responses = operation.responses if operation.responses is not None else {}
    # litestar's own 400 describes its exception, not the problem document we answer with.
    for code in [c for c in responses if c.startswith(("4", "5")) and c not in declared]:
        del responses[code]
    derived = derived_statuses(
        operation, handler, method, guarded=security is not None, schemas=schemas
    )
    referred = {status for status in derived if str(status) not in declared}
    for status in sorted(referred):
        responses[str(status)] = Reference(f"#/components/responses/{_response_name(status)}")
    operation.responses = responses
    _success_content(operation, handler)
    for parameter in operation.parameters or ():
        if isinstance(parameter, Parameter) and parameter.param_in != "path":
            parameter.schema = _without_null(parameter.schema)
    return referred


def _operations(app: Litestar) -> Iterable[tuple[Operation, HTTPRouteHandler, str]]:
    paths = app.openapi_schema.paths or {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path_item = paths.get(route.path_format or "/")
        if path_item is None:
            continue
        for method, (handler, _) in route.route_handler_map.items():
            operation = getattr(path_item, method.lower(), None)
            if isinstance(operation, Operation) and handler.resolve_include_in_schema():
                yield operation, handler, method


def complete_openapi(app: Litestar, authentication: Authentication) -> None:
    """Complete ``app``'s OpenAPI document in place. Call it once every route is registered
    (a route registered later makes litestar build the document again, without this)."""
    openapi = app.openapi_schema
    components = openapi.components
    if not isinstance(components, Components):
        raise TypeError("expected one Components object")
    statuses: set[int] = set()
    for operation, handler, method in _operations(app):
        statuses |= complete_operation(
            operation, handler, method, authentication, components.schemas
        )
    components.schemas["Problem"] = problem_schema()
    components.responses = {
        **(components.responses or {}),
        **{_response_name(status): _problem_response(status) for status in sorted(statuses)},
    }
    components.security_schemes = {
        **(components.security_schemes or {}),
        **authentication.schemes,
    }
