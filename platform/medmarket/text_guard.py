"""Text PostgreSQL cannot store is refused at the door, with its field named.

PostgreSQL's ``text`` and ``jsonb`` cannot hold U+0000 (NUL). A value carrying one would pass
validation and fail deep in a query; this ASGI middleware looks at the query string and at JSON
and form bodies (not uploads: a file may hold any byte) and answers 422 naming the first field
that holds a NUL. The body it read is handed on unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, ReceiveMessage, Scope, Send

from medmarket.errors import PROBLEM_JSON, InvalidInput

NUL = "\x00"
_CHECKED_BODIES = ("application/json", "application/x-www-form-urlencoded")
CHECKED_BODY_LIMIT = 2 * 1024 * 1024  # larger JSON or form bodies are refused by the app anyway


def fields_with_nul(value: Any, path: str = "") -> Iterator[str]:
    """Where in a decoded JSON document a NUL character appears (keys included)."""
    if isinstance(value, str):
        if NUL in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield where
            yield from fields_with_nul(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from fields_with_nul(item, f"{path}[{index}]")


def _first_in_pairs(encoded: str) -> str | None:
    for key, item in parse_qsl(encoded, keep_blank_values=True):
        if NUL in key or NUL in item:
            return key.replace(NUL, "") or "query"
    return None


def field_with_nul(content_type: str, body: bytes) -> str | None:
    """The first field of a JSON or form body that holds a NUL, if any."""
    if content_type == "application/json":
        if b"\\u0000" not in body.lower() and b"\x00" not in body:
            return None
        try:
            document = json.loads(body)
        except ValueError:
            return None  # unreadable JSON is the decoder's to refuse, with its own message
        return next(fields_with_nul(document), None)
    if b"%00" in body or b"\x00" in body:
        return _first_in_pairs(body.decode("latin-1"))
    return None


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


async def _refuse(send: Send, path: str, field: str) -> None:
    problem = InvalidInput("text may not contain a NUL character", field=field)
    body = msgspec.json.encode(problem.body(instance=path))
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": problem.status,
        "headers": [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def refuse_nul_characters(app: ASGIApp) -> ASGIApp:
    """The middleware: wraps ``app``."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            field = _first_in_pairs(query.decode("latin-1"))
            if field is not None:
                await _refuse(send, scope["path"], field)
                return
        content_type = _content_type(scope)
        if content_type not in _CHECKED_BODIES:
            await app(scope, receive, send)
            return
        messages: list[ReceiveMessage] = []
        chunks: list[bytes] = []
        complete, size = False, 0
        while size <= CHECKED_BODY_LIMIT:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not message.get("more_body", False):
                complete = True
                break
        # A body beyond the limit goes on unread: the app refuses it as too large.
        field = field_with_nul(content_type, b"".join(chunks)) if complete else None
        if field is not None:
            await _refuse(send, scope["path"], field)
            return

        async def replay() -> ReceiveMessage:
            return messages.pop(0) if messages else await receive()

        await app(scope, replay, send)

    return middleware
