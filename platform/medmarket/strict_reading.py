"""A request is read as the OpenAPI document describes it, not more kindly.

litestar converts parameters and JSON bodies with msgspec in lax mode, which takes values the
document rules out: the string "null" for None wherever a parameter's type allows None
(``GET /api/consultations?booking_id=null`` would answer as if no booking had been named), a
number for a time (``?before=0.5``, half a second after 1970), and in a JSON body ``0`` for
``false`` or ``"100"`` for ``100``. This guard, which every route passes after the access
guard, refuses what only lax mode would take, with the field named: 422, as for any other
value of the wrong kind. A value lax mode refuses too is left to litestar, which says so in
its own words. Query, header and cookie parameters stay text read into their type (an integer
is sent as ``?limit=5``); only "null", numbers for times and days in the first or last year of
Python's calendar (which no handler can move by a day or into a time zone) are refused there.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any, Final

import msgspec
from litestar.connection import ASGIConnection, Request
from litestar.constants import RESERVED_KWARGS
from litestar.enums import ParamType, RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.params import BodyKwarg, ParameterKwarg
from litestar.typing import FieldDefinition

from medmarket.errors import FieldError, InvalidInput, from_validation_error

NULL: Final = "null"
_BODY: Final = "data"  # litestar's name for the request body
# Types lax mode also reads from a number; their text is ISO 8601 only.
_TEMPORAL: Final = (dt.datetime, dt.date, dt.time, dt.timedelta)


def _options(field: FieldDefinition) -> list[FieldDefinition]:
    return [inner for inner in field.inner_types if not inner.is_none_type] or [field]


def parameter_refusal(field: FieldDefinition, text: str) -> tuple[str, str] | None:
    """(message, code) saying why ``text`` is no value of this parameter although lax mode
    would take it; None when it is one, or when litestar refuses it anyway."""
    options = _options(field)
    if any(option.is_any or option.annotation is str for option in options):
        return None  # text is read as it is, "null" too
    if text == NULL and field.is_optional:
        return "leave the parameter out instead of 'null'", "null"
    if not all(option.is_subclass_of(_TEMPORAL) for option in options):
        return None
    message = "invalid"
    for option in options:
        try:
            value = msgspec.convert(text, option.annotation, strict=True)
        except msgspec.ValidationError as exc:
            message = str(exc)
        else:
            return _calendar_edge(value)
    return message, "invalid"


def _calendar_edge(value: object) -> tuple[str, str] | None:
    """A day at either end of Python's calendar cannot be shifted into another time zone or
    by a day, which handlers do with the days they are given."""
    if isinstance(value, dt.date) and value.year in (dt.MINYEAR, dt.MAXYEAR):
        return f"give a date from the year {dt.MINYEAR + 1} to {dt.MAXYEAR - 1}", "out-of-range"
    return None


def _place(
    name: str, field: FieldDefinition, handler: BaseRouteHandler, path_params: dict[str, Any]
) -> tuple[ParamType, str] | None:
    """Where the request carries this handler parameter, and under which name (None: not a
    query, header or cookie parameter)."""
    kwarg = field.kwarg_definition
    if isinstance(kwarg, ParameterKwarg):
        if kwarg.param_type == ParamType.PATH:
            return None
        return kwarg.param_type, kwarg.name or name
    if kwarg is not None or name in RESERVED_KWARGS or name in path_params:
        return None
    if name in handler.resolve_dependencies():
        return None
    return ParamType.QUERY, name


def _texts(connection: ASGIConnection[Any, Any, Any, Any], place: ParamType, name: str) -> Any:
    if place == ParamType.QUERY:
        return connection.query_params.getall(name, [])
    if place == ParamType.HEADER:
        return connection.headers.getall(name, [])
    return [connection.cookies[name]] if name in connection.cookies else []


def _parameter_errors(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, field in handler.parsed_fn_signature.parameters.items():
        place = _place(name, field, handler, connection.path_params)
        if place is None:
            continue
        for text in _texts(connection, *place):
            refused = parameter_refusal(field, text)
            if refused is not None:
                message, code = refused
                errors.append(FieldError(field=place[1], message=message, code=code))
                break
    return errors


@cache
def _strict_decoder(annotation: Any) -> msgspec.json.Decoder[Any] | None:
    try:
        return msgspec.json.Decoder(annotation)
    except TypeError:  # a type msgspec cannot decode on its own: litestar's reading stands
        return None


def body_refusal(annotation: Any, body: bytes) -> FieldError | None:
    """Why this JSON body is no value of ``annotation`` although lax mode would take it."""
    decoder = _strict_decoder(annotation)
    if decoder is None:
        return None
    try:
        decoder.decode(body)
    except msgspec.ValidationError as strict:
        try:
            msgspec.convert(msgspec.json.decode(body), annotation, strict=False)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        return from_validation_error(strict, "body")
    except msgspec.DecodeError:
        return None  # unreadable: litestar answers 400
    return None


def _json_body(handler: BaseRouteHandler) -> Any | None:
    """The annotation of the handler's JSON body, if it takes one."""
    field = handler.parsed_fn_signature.parameters.get(_BODY)
    if field is None:
        return None
    kwarg = field.kwarg_definition
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type not in (None, RequestEncodingType.JSON):
        return None
    return field.annotation


async def read_as_documented(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    errors = _parameter_errors(connection, handler)
    annotation = _json_body(handler)
    if not errors and annotation is not None and isinstance(connection, Request):
        body = await connection.body()
        refused = body_refusal(annotation, body) if body else None
        if refused is not None:
            errors.append(refused)
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
