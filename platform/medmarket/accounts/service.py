"""The rules of accounts: who may sign up as what, sign-in, sessions and invitations.

Nothing here tells a stranger whether an address has an account: sign-in answers a wrong
password and an unknown address alike (and checks a hash either way), sign-up answers a
taken address like a new one and tells the address' owner instead. How often each may be
tried is in ``throttle.py``; password resets are in ``resets.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
import zoneinfo
from collections.abc import Sequence
from functools import cache
from typing import Any

import asyncpg
import msgspec
from email_validator import EmailNotValidError, validate_email

from medmarket import audit
from medmarket.accounts.devices import KnownDevices
from medmarket.accounts.passwords import Passwords, password_problem
from medmarket.accounts.places import StaffPlace
from medmarket.accounts.schemas import (
    PLACE_FIELDS,
    InvitationOut,
    InvitationPreview,
    InvitationRequest,
    PreferencesRequest,
    Role,
    SignUpAccepted,
    SignUpRequest,
    UserOut,
)
from medmarket.accounts.throttle import AccountThrottle
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.errors import FieldError, InvalidInput, NotAuthenticated
from medmarket.notifications.service import notify

INVITATION_TTL = dt.timedelta(days=7)
# An address the account signed in from this recently (since its password last changed) is
# a known place: see throttle.py.
KNOWN_ADDRESS_FOR = dt.timedelta(days=90)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The signed-in person behind a request."""

    user_id: uuid.UUID
    role: Role
    email: str
    display_name: str
    locale: str
    time_zone: str
    session_kind: str
    csrf_token: str
    expires_at: dt.datetime


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def normalize_email(raw: str) -> str:
    """The address in the form accounts are keyed by; raises EmailNotValidError."""
    result = validate_email(raw.strip(), check_deliverability=False)
    return result.normalized.lower()


@cache
def known_time_zones() -> frozenset[str]:
    """IANA zone names this machine's tz database knows (read once; it is a directory walk)."""
    return frozenset(zoneinfo.available_timezones())


def user_out(row: asyncpg.Record) -> UserOut:
    return UserOut(**{key: row[key] for key in UserOut.__struct_fields__})


class Accounts:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        throttle: AccountThrottle,
        devices: KnownDevices,
        *,
        session_ttl: dt.timedelta,
        base_url: str,
        places: Sequence[StaffPlace],
    ) -> None:
        self.db = db
        self.passwords = passwords
        self.throttle = throttle
        self.devices = devices
        # Where invitations place staff (places.py): the ports' STAFF_PLACES.
        self.places: dict[str, StaffPlace] = {place.field: place for place in places}
        self.session_ttl = session_ttl
        self.base_url = base_url.rstrip("/")

    # -- sign-up ---------------------------------------------------------------------------
    async def sign_up(self, request: SignUpRequest, context: AuditContext) -> SignUpAccepted:
        """Create the account, or, when the address already has one, tell its owner: the
        answer is the same either way (and so is the work: the password is hashed)."""
        errors: list[FieldError] = []
        email = ""
        try:
            email = normalize_email(request.email)
        except EmailNotValidError as exc:
            errors.append(FieldError(field="email", message=str(exc), code="invalid-email"))
        weakness = password_problem(request.password, email or request.email)
        if weakness:
            errors.append(FieldError(field="password", message=weakness, code="weak-password"))
        display_name = request.display_name.strip()
        if not display_name:
            errors.append(
                FieldError(field="display_name", message="enter your name", code="required")
            )
        if errors:
            raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)

        await self.throttle.sign_up(context.ip or "unknown")
        password_hash = await self.passwords.hash(request.password)
        async with self.db.transaction() as connection:
            role: Role = request.role
            invitation: asyncpg.Record | None = None
            if request.invitation is not None:
                invitation = await connection.fetchrow(
                    """
                    SELECT token_hash, email, role, scope FROM invitations
                     WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now()
                       FOR UPDATE
                    """,
                    token_digest(request.invitation),
                )
                if invitation is None or invitation["email"] != email:
                    raise InvalidInput(
                        "this invitation is unknown, used, expired or for another address",
                        field="invitation",
                    )
                role = invitation["role"]
            row = await connection.fetchrow(
                """
                INSERT INTO users (email, password_hash, role, display_name, locale)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (email) DO NOTHING
                RETURNING id
                """,
                email,
                password_hash,
                role,
                display_name,
                request.locale,
            )
            if row is None:
                await self._tell_owner_of_sign_up(connection, email, role, context)
                return SignUpAccepted(email=email)
            if invitation is not None:
                await connection.execute(
                    "UPDATE invitations SET accepted_at = now(), accepted_user_id = $2 "
                    "WHERE token_hash = $1",
                    invitation["token_hash"],
                    row["id"],
                )
                await self._place(
                    connection, invitation, row["id"], context.as_actor(row["id"], role)
                )
            await audit.record(
                connection,
                context.as_actor(row["id"], role),
                "account.signed_up",
                "user",
                row["id"],
                detail={
                    "role": role,
                    "invited": invitation is not None,
                    **(invitation["scope"] if invitation is not None else {}),
                },
            )
        return SignUpAccepted(email=email)

    async def _place(
        self,
        connection: Connection,
        invitation: asyncpg.Record,
        user_id: uuid.UUID,
        context: AuditContext,
    ) -> None:
        """Place the new account where its invitation says (a hospital, a pharmacy)."""
        for field, place_id in invitation["scope"].items():
            place = self.places.get(field)
            if place is None or place.role != invitation["role"]:
                # Sent by a platform that had this place; it has no one to place them now.
                raise InvalidInput(
                    "this invitation is for a place this platform does not have",
                    field="invitation",
                )
            await place.join(connection, user_id, uuid.UUID(place_id), context)

    async def _tell_owner_of_sign_up(
        self, connection: Connection, email: str, role: Role, context: AuditContext
    ) -> None:
        """Someone signed up with an address that has an account: tell the account (at most
        once an hour, however often it is tried) how to sign in or reset the password."""
        owner = await connection.fetchval("SELECT id FROM users WHERE email = $1", email)
        hour = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H")
        await notify(
            connection,
            owner,
            "account.sign_up_attempted",
            {
                "sign_in_url": f"{self.base_url}/sign-in",
                "reset_url": f"{self.base_url}/forgot-password",
            },
            dedupe_key=hour,
        )
        await audit.record(
            connection,
            context,
            "account.sign_up",
            "user",
            owner,
            outcome="denied",
            detail={"reason": "address-has-account", "role": role},
        )

    # -- sign-in ---------------------------------------------------------------------------
    async def sign_in(
        self,
        email: str,
        password: str,
        kind: str,
        context: AuditContext,
        *,
        device: str | None = None,
    ) -> tuple[str, Principal]:
        """Returns (token, principal). Unknown account and wrong password look the same.
        ``device`` is the known-device cookie the client sent (devices.py), if any."""
        try:
            email = normalize_email(email)
        except EmailNotValidError:
            email = email.strip().lower()
        address = context.ip or "unknown"
        row = await self.db.fetchrow(
            """
            SELECT u.id, u.role, u.password_hash, u.password_changed_at,
                   EXISTS (SELECT 1 FROM sessions s
                            WHERE s.user_id = u.id AND s.ip = $2::inet
                              AND s.created_at > now() - $3::interval
                              AND s.created_at >= coalesce(u.password_changed_at, '-infinity'))
                     AS known_address
              FROM users u
             WHERE u.email = $1 AND u.disabled_at IS NULL
            """,
            email,
            context.ip,
            KNOWN_ADDRESS_FOR,
        )
        known_place = None
        if row is not None:
            known_place = self.devices.place(device, row["id"], row["password_changed_at"])
            if known_place is None and row["known_address"]:
                known_place = f"address:{address}"
        attempt = await self.throttle.sign_in_attempt(email, address, known_place=known_place)
        if not await self.passwords.verify(row["password_hash"] if row else None, password):
            async with self.db.transaction() as connection:
                await audit.record(
                    connection,
                    context,
                    "account.sign_in",
                    "user",
                    row["id"] if row else None,
                    outcome="failed",
                    detail={"email": email, "from": (known_place or "unknown").split(":")[0]},
                )
            raise NotAuthenticated("the e-mail address or the password is wrong")
        await self.throttle.succeeded(attempt)
        assert row is not None
        token = secrets.token_urlsafe(32)
        csrf_token = secrets.token_urlsafe(24)
        async with self.db.transaction() as connection:
            await connection.execute(
                """
                INSERT INTO sessions (token_hash, user_id, kind, csrf_token, expires_at, ip,
                                      user_agent)
                VALUES ($1, $2, $3, $4, now() + $5::interval, $6::inet, $7)
                """,
                token_digest(token),
                row["id"],
                kind,
                csrf_token,
                self.session_ttl,
                context.ip,
                context.user_agent,
            )
            await audit.record(
                connection,
                context.as_actor(row["id"], row["role"]),
                "account.sign_in",
                "user",
                row["id"],
                detail={"kind": kind},
            )
        principal = await self.resolve(token)
        assert principal is not None
        return token, principal

    async def resolve(self, token: str) -> Principal | None:
        row = await self.db.fetchrow(
            """
            SELECT u.id AS user_id, u.role, u.email, u.display_name, u.locale, u.time_zone,
                   s.kind AS session_kind, s.csrf_token, s.expires_at
              FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
               AND u.disabled_at IS NULL
            """,
            token_digest(token),
        )
        return Principal(**dict(row)) if row else None

    async def sign_out(self, token: str, context: AuditContext) -> None:
        async with self.db.transaction() as connection:
            user_id = await connection.fetchval(
                "UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 "
                "AND revoked_at IS NULL RETURNING user_id",
                token_digest(token),
            )
            if user_id is not None:
                await audit.record(connection, context, "account.sign_out", "user", user_id)

    async def user(self, user_id: uuid.UUID) -> UserOut:
        row = await self.db.fetchrow(
            "SELECT id, email, role, display_name, locale, time_zone, created_at "
            "FROM users WHERE id = $1",
            user_id,
        )
        assert row is not None
        return user_out(row)

    async def update_preferences(
        self, user_id: uuid.UUID, request: PreferencesRequest, context: AuditContext
    ) -> UserOut:
        """Change the user's language and/or time zone; fields left out stay as they are."""
        if request.time_zone is not None and request.time_zone not in known_time_zones():
            raise InvalidInput(
                "not a time zone name like Asia/Shanghai",
                field="time_zone",
                code="unknown-time-zone",
            )
        changes = {
            key: value
            for key, value in (("locale", request.locale), ("time_zone", request.time_zone))
            if value is not None
        }
        async with self.db.transaction() as connection:
            row = await connection.fetchrow(
                """
                UPDATE users SET locale = coalesce($2, locale), time_zone = coalesce($3, time_zone)
                 WHERE id = $1
                RETURNING id, email, role, display_name, locale, time_zone, created_at
                """,
                user_id,
                request.locale,
                request.time_zone,
            )
            assert row is not None
            if changes:
                await audit.record(
                    connection,
                    context,
                    "account.preferences_changed",
                    "user",
                    user_id,
                    detail=changes,
                )
        return user_out(row)

    # -- invitations -----------------------------------------------------------------------
    async def invitation(self, token: str) -> InvitationPreview | None:
        """The open invitation behind ``token``; None when it is unknown, used or expired."""
        row = await self.db.fetchrow(
            """
            SELECT email, role, expires_at FROM invitations
             WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now()
            """,
            token_digest(token),
        )
        return InvitationPreview(**dict(row)) if row else None

    async def invite(self, request: InvitationRequest, context: AuditContext) -> InvitationOut:
        try:
            email = normalize_email(request.email)
        except EmailNotValidError as exc:
            raise InvalidInput(str(exc), field="email") from None
        token = secrets.token_urlsafe(32)
        named = {
            field: place_id
            for field in PLACE_FIELDS
            if (place_id := getattr(request, field)) is not None
        }
        places = {field: self._place_for(field, request.role) for field in named}
        if len(named) > 1:
            second = list(named)[1]
            raise InvalidInput("an invitation places its member in one place", field=second)
        scope: dict[str, Any] = {field: str(place_id) for field, place_id in named.items()}
        async with self.db.transaction() as connection:
            for field, place_id in named.items():
                if not await places[field].exists(connection, place_id):
                    raise InvalidInput(f"there is no such {places[field].noun}", field=field)
            expires_at = await connection.fetchval(
                """
                INSERT INTO invitations (token_hash, email, role, scope, invited_by, expires_at)
                VALUES ($1, $2, $3, $4, $5, now() + $6::interval)
                RETURNING expires_at
                """,
                token_digest(token),
                email,
                request.role,
                scope,
                context.actor_id,
                INVITATION_TTL,
            )
            await audit.record(
                connection,
                context,
                "invitation.created",
                "invitation",
                email,
                detail={"role": request.role, **scope},
            )
        return InvitationOut(email=email, role=request.role, token=token, expires_at=expires_at)

    def _place_for(self, field: str, role: Role) -> StaffPlace:
        """The place an invitation's ``field`` names, which must be of the invitation's role
        (a pharmacy for a pharmacist): otherwise a 422 naming the field."""
        place = self.places.get(field)
        if place is None:
            raise InvalidInput("invitations cannot place anyone there yet", field=field)
        if place.role != role:
            raise InvalidInput(
                f"{field} places a {place.role}, not a {role}", field=field, code="wrong-role"
            )
        return place
