"""Known devices: a browser (or app) where an account signed in carries a signed note saying
so, the "device cookie" of OWASP's advice against lockout attacks. A sign-in from a known
device is counted on its own (accounts/throttle.py), so a person on a phone whose address
changes all day is not held up by whoever is guessing at their account elsewhere.

The cookie holds one entry per account (a few at most: a family sharing a phone), each
``<user id hex>.<issued, unix seconds>.<signature>``. It says nothing but "this account
signed in here"; it opens nothing, and a password change makes every earlier entry void.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
import uuid
from typing import Final

DEVICE_COOKIE: Final = "mm_device"
DEVICE_MAX_AGE: Final = 365 * 24 * 3600
_MAX_ENTRIES: Final = 5
_SEPARATOR: Final = "~"


class KnownDevices:
    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"medmarket device cookie\0" + secret_key.encode()).digest()

    def _signature(self, user_hex: str, issued: int) -> str:
        mac = hmac.new(self._key, f"{user_hex}.{issued}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode()

    def _entries(self, cookie: str | None, now: int) -> dict[str, tuple[int, str]]:
        """Valid entries by user id hex: (issued, signature)."""
        found: dict[str, tuple[int, str]] = {}
        for entry in (cookie or "").split(_SEPARATOR)[: _MAX_ENTRIES * 2]:
            user_hex, _, rest = entry.partition(".")
            issued_text, _, signature = rest.partition(".")
            if not issued_text.isdigit() or len(user_hex) != 32:
                continue
            issued = int(issued_text)
            if not now - DEVICE_MAX_AGE < issued <= now + 60:
                continue
            if hmac.compare_digest(signature, self._signature(user_hex, issued)):
                found[user_hex] = (issued, signature)
        return found

    def place(
        self, cookie: str | None, user_id: uuid.UUID, password_changed_at: dt.datetime | None
    ) -> str | None:
        """The name this device's entry for ``user_id`` is counted under, or None when the
        cookie holds no valid entry for it issued since the password last changed."""
        entry = self._entries(cookie, int(time.time())).get(user_id.hex)
        if entry is None:
            return None
        issued, signature = entry
        if password_changed_at is not None and issued < int(password_changed_at.timestamp()):
            return None
        return f"device:{signature}"

    def issue(self, cookie: str | None, user_id: uuid.UUID) -> str:
        """The cookie's new value: a fresh entry for ``user_id`` first, then the others."""
        now = int(time.time())
        entries = self._entries(cookie, now)
        entries.pop(user_id.hex, None)
        kept = sorted(entries.items(), key=lambda item: item[1][0], reverse=True)
        fresh = f"{user_id.hex}.{now}.{self._signature(user_id.hex, now)}"
        others = [f"{user}.{issued}.{signature}" for user, (issued, signature) in kept]
        return _SEPARATOR.join([fresh, *others][:_MAX_ENTRIES])
