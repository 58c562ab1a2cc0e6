"""Helpers for tests of pages over HTTP (no browser): ask like a browser does, read a form's
token and fields back, find the error shown beside a field."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import httpx

from medmarket.tests.support.fixtures import Account

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def csrf_of(page: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert match, "the page has no form token"
    return match[1]


def form_of(page: str, action: str) -> str:
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, f"no form posting to {action}"
    return form[0]


def field_value(page: str, name: str) -> str | None:
    """The value an input (or the selected option of a select, or a textarea) holds."""
    escaped = re.escape(name)
    tag = re.search(rf'<input[^>]*\bname="{escaped}"[^>]*>', page)
    if tag is not None:
        value = re.search(r'\bvalue="([^"]*)"', tag[0])
        return html.unescape(value[1]) if value else None
    area = re.search(rf'<textarea[^>]*\bname="{escaped}"[^>]*>(.*?)</textarea>', page, re.S)
    if area is not None:
        return html.unescape(area[1])
    select = re.search(rf'<select[^>]*\bname="{escaped}"[^>]*>(.*?)</select>', page, re.S)
    if select is not None:
        chosen = re.search(r'<option value="([^"]*)" selected', select[1])
        return html.unescape(chosen[1]) if chosen else ""
    return None


def checked(page: str, name: str, value: str) -> bool:
    tag = re.search(
        rf'<input[^>]*\bname="{re.escape(name)}" value="{re.escape(value)}"[^>]*>', page
    )
    return tag is not None and " checked" in tag[0]


def error_beside(page: str, field: str) -> str | None:
    """The error message inside the field's own container (``data-field``), if any."""
    container = re.search(
        rf'class="(?:[^"]* )?field(?: [^"]*)?"[^>]*data-field="{re.escape(field)}"', page
    )
    assert container, f"no field {field}"
    following = re.search(r'data-field="', page[container.end() :])
    block = page[container.end() : container.end() + following.start() if following else None]
    error = re.search(
        rf'<p class="field-error" id="f-{re.escape(field)}-error">(.*?)</p>', block, re.S
    )
    return text_of(error[1]) if error else None


def text_of(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


async def get_page(http: httpx.AsyncClient, path: str) -> httpx.Response:
    return await http.get(path, headers=HTML)


async def post_form(
    http: httpx.AsyncClient,
    path: str,
    data: dict[str, str] | list[tuple[str, str]],
    *,
    from_page: str | None = None,
) -> httpx.Response:
    """Post a form the way its page does: with the page's token (from ``from_page``, else
    the form's own path, else the home page when that path only takes POSTs)."""
    page = await get_page(http, from_page or path)
    if from_page is None and page.status_code != 200:
        page = await get_page(http, "/")
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    # Encoded here: a list keeps repeated names (several rows of one field) in order.
    body = urlencode([("_csrf", csrf_of(page.text)), *fields])
    headers = {**HTML, "Content-Type": "application/x-www-form-urlencoded"}
    return await http.post(path, content=body, headers=headers)


async def browser_session(http: httpx.AsyncClient, account: Account) -> None:
    """Sign ``http`` in with a browser session (cookies), as the sign-in page would."""
    response = await http.post(
        "/api/session", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 201, response.text
