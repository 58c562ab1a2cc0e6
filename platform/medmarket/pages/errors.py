"""Errors on pages are pages. A browser that asks for HTML outside the API gets an error page
in its language (or, when it is not signed in, the sign-in page); API routes and every client
that does not ask for HTML keep RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.types import ExceptionHandler, ExceptionHandlersMap

from medmarket.errors import Problem, as_problem
from medmarket.pages.rendering import PAGE_HEADERS, current_path, page_rendered_now, translator

log = logging.getLogger("medmarket.pages")

# Paths that always answer problem+json, whatever the Accept header says.
MACHINE_PREFIXES: Final = ("/api/", "/schema", "/healthz", "/readyz", "/static/")
SIGN_IN_PATH: Final = "/sign-in"


def wants_html(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(MACHINE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request[Any, Any, Any], problem: Problem) -> Response[Any]:
    if problem.status == 401:
        target = current_path(request) if request.method == "GET" else "/"
        query = urlencode({"next": target})
        return Redirect(f"{SIGN_IN_PATH}?{query}", status_code=HTTP_303_SEE_OTHER)
    t = translator(request)
    known = t.get(f"error_page.{problem.status}.title") is not None
    kind = str(problem.status) if known else "other"
    return page_rendered_now(
        request,
        "error.html",
        status=problem.status,
        headers=dict(problem.headers),
        error_status=problem.status,
        kind=kind,
        # Both guards word a failed CSRF check the same way; say "reload", not "forbidden".
        csrf_expired=problem.status == 403 and "CSRF" in problem.detail,
    )


def _page_aware(handler: ExceptionHandler[Exception]) -> ExceptionHandler[Exception]:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if not wants_html(request):
            return handler(request, exc)
        problem = as_problem(exc)
        if problem.status >= 500:
            log.error("error on page %s %s", request.method, request.url.path, exc_info=exc)
        try:
            return error_page(request, problem)
        except Exception:
            # The error page itself failed (a broken template): answer plainly, never loop.
            log.exception("the error page for %s failed", request.url.path)
            return Response(
                content=f"{problem.status} {problem.title}",
                status_code=problem.status,
                media_type="text/plain",
                headers=PAGE_HEADERS,
            )

    return handle


def page_aware(handlers: ExceptionHandlersMap) -> ExceptionHandlersMap:
    """``handlers`` (the API's problem+json ones) wrapped to answer browsers with pages."""
    return {key: _page_aware(handler) for key, handler in handlers.items()}
