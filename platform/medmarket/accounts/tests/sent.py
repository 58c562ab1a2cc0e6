"""What the accounts domain queued for someone's notification channels (the outbox)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar import Litestar


async def notifications(app: Litestar, user_id: str, template: str) -> list[dict[str, Any]]:
    """Every ``template`` notification queued for ``user_id``, oldest first."""
    rows = await app.state.services.db.fetch(
        """
        SELECT payload FROM outbox
         WHERE topic = 'notification.send' AND payload->>'template' = $1
           AND payload->'recipient'->>'user_id' = $2
         ORDER BY id
        """,
        template,
        user_id,
    )
    return [row["payload"] for row in rows]


async def reset_link(app: Litestar, user_id: str) -> str:
    """The newest reset link sent to ``user_id``: ``{base_url}/reset-password?token=...``
    (the base URL of the app that sent it, which may be a live server's)."""
    sent = await notifications(app, user_id, "account.password_reset")
    assert sent, "no reset link was sent"
    link: str = sent[-1]["params"]["link"]
    assert urlsplit(link).path == "/reset-password", link
    return link


async def reset_token(app: Litestar, user_id: str) -> str:
    """The token of the newest reset link sent to ``user_id``."""
    link = await reset_link(app, user_id)
    assert link.startswith(app.state.settings.base_url + "/reset-password?token=")
    return parse_qs(urlsplit(link).query)["token"][0]
