"""Time-limited TURN credentials in coturn's ``use-auth-secret`` scheme (the "TURN REST API"):
``username = "<expiry unix time>:<user>"``, ``password = base64(HMAC-SHA1(secret, username))``.
coturn recomputes the password from its ``static-auth-secret`` and refuses a username whose
expiry has passed, so nothing is stored and a leaked credential dies on its own."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac


def coturn_credential(secret: str, user: str, expires_at: dt.datetime) -> tuple[str, str]:
    """(username, password) valid until ``expires_at`` for a coturn sharing ``secret``."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    if ":" in user:
        raise ValueError("the TURN user may not contain ':'")
    username = f"{int(expires_at.timestamp())}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")
