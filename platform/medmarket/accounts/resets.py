"""Password reset: a link sent through the notification channels (e-mail, SMS, WeChat),
which works once and for a short while, and ends every session of the account.

Asking for a link answers the same for every address, with an account or without; it is
throttled per address (429) and per account (past the limit no more links are sent for a
while, and the answer stays the same). Only a hash of each token is stored.

Messages (templates) the notifier plugins render, with their params:

- ``account.password_reset``: ``link`` (``{base_url}/reset-password?token=...``) and
  ``expires_minutes``.
- ``account.password_changed``: ``reset_url``, for an owner who did not change it.
- ``account.sign_up_attempted`` (from ``service.py``): ``sign_in_url`` and ``reset_url``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from email_validator import EmailNotValidError

from medmarket import audit
from medmarket.accounts.passwords import Passwords, password_problem
from medmarket.accounts.schemas import PasswordResetAccepted
from medmarket.accounts.service import normalize_email, token_digest
from medmarket.accounts.throttle import AccountThrottle
from medmarket.audit import AuditContext
from medmarket.db import Database
from medmarket.errors import FieldError, InvalidInput
from medmarket.notifications.service import notify


class PasswordResets:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        throttle: AccountThrottle,
        *,
        ttl: dt.timedelta,
        base_url: str,
    ) -> None:
        self.db = db
        self.passwords = passwords
        self.throttle = throttle
        self.ttl = ttl
        self.base_url = base_url.rstrip("/")

    async def request(self, raw_email: str, context: AuditContext) -> PasswordResetAccepted:
        """Send a reset link to the account of ``raw_email``, if there is one."""
        try:
            email = normalize_email(raw_email)
        except EmailNotValidError as exc:
            raise InvalidInput(str(exc), field="email", code="invalid-email") from None
        accepted = PasswordResetAccepted(expires_in_seconds=int(self.ttl.total_seconds()))
        may_send = await self.throttle.reset_requested(email, context.ip or "unknown")
        token = secrets.token_urlsafe(32)
        async with self.db.transaction() as connection:
            user_id = await connection.fetchval(
                "SELECT id FROM users WHERE email = $1 AND disabled_at IS NULL", email
            )
            if user_id is None or not may_send:
                await audit.record(
                    connection,
                    context,
                    "account.password_reset_requested",
                    "user",
                    user_id,
                    outcome="denied",
                    detail={"reason": "no-account" if user_id is None else "throttled"},
                )
                return accepted
            await connection.execute(
                """
                INSERT INTO password_resets (token_hash, user_id, expires_at, requested_ip)
                VALUES ($1, $2, now() + $3::interval, $4::inet)
                """,
                token_digest(token),
                user_id,
                self.ttl,
                context.ip,
            )
            await notify(
                connection,
                user_id,
                "account.password_reset",
                {
                    "link": f"{self.base_url}/reset-password?token={token}",
                    "expires_minutes": int(self.ttl.total_seconds() // 60),
                },
                dedupe_key=token_digest(token).hex(),
                urgency="high",
            )
            await audit.record(
                connection, context, "account.password_reset_requested", "user", user_id
            )
        return accepted

    async def is_open(self, token: str) -> bool:
        """Whether the link of ``token`` still works (looking does not use it)."""
        found = await self.db.fetchval(
            "SELECT 1 FROM password_resets "
            "WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > now()",
            token_digest(token),
        )
        return found is not None

    async def confirm(self, token: str, password: str, context: AuditContext) -> uuid.UUID:
        """Set the new password with the link's token: the token is used up, the account's
        other links end, every session of the account ends. Returns the account's id."""
        digest = token_digest(token)
        email = await self.db.fetchval(
            """
            SELECT u.email FROM password_resets r JOIN users u ON u.id = r.user_id
             WHERE r.token_hash = $1 AND r.ended_at IS NULL AND r.expires_at > now()
               AND u.disabled_at IS NULL
            """,
            digest,
        )
        if email is None:
            raise _link_broken()
        weakness = password_problem(password, email)
        if weakness:
            raise InvalidInput(
                f"password: {weakness}",
                errors=[FieldError(field="password", message=weakness, code="weak-password")],
            )
        password_hash = await self.passwords.hash(password)
        async with self.db.transaction() as connection:
            # The row lock decides between two uses of one link: the second finds it ended.
            user_id = await connection.fetchval(
                """
                UPDATE password_resets r SET ended_at = now(), ended_because = 'used'
                  FROM users u
                 WHERE r.token_hash = $1 AND r.ended_at IS NULL AND r.expires_at > now()
                   AND u.id = r.user_id AND u.disabled_at IS NULL
                RETURNING r.user_id
                """,
                digest,
            )
            if user_id is None:
                raise _link_broken()
            await connection.execute(
                "UPDATE users SET password_hash = $2, password_changed_at = now() WHERE id = $1",
                user_id,
                password_hash,
            )
            others = await connection.execute(
                """
                UPDATE password_resets SET ended_at = now(), ended_because = 'password_changed'
                 WHERE user_id = $1 AND ended_at IS NULL
                """,
                user_id,
            )
            sessions = await connection.execute(
                "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
                user_id,
            )
            await audit.record(
                connection,
                context,
                "account.password_reset",
                "user",
                user_id,
                detail={
                    "sessions_ended": int(sessions.split()[-1]),
                    "other_links_ended": int(others.split()[-1]),
                },
            )
            await notify(
                connection,
                user_id,
                "account.password_changed",
                {"reset_url": f"{self.base_url}/forgot-password"},
                dedupe_key=digest.hex(),
                urgency="high",
            )
        changed: uuid.UUID = user_id
        return changed


def _link_broken() -> InvalidInput:
    return InvalidInput(
        "this link is unknown, used or expired; ask for a new one",
        field="token",
        code="invalid-token",
    )
