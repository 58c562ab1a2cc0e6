"""HTTP bodies of the accounts API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, get_args

import msgspec

Role = Literal["patient", "doctor", "pharmacist", "hospital_admin", "operator"]
ALL_ROLES: frozenset[Role] = frozenset(
    ("patient", "doctor", "pharmacist", "hospital_admin", "operator")
)
SelfServiceRole = Literal["patient", "doctor"]
StaffRole = Literal["pharmacist", "hospital_admin", "operator"]
Locale = Literal["zh-CN", "en"]
# The fields of an invitation that name where its staff member is placed (places.py).
PlaceField = Literal["hospital_id", "pharmacy_id"]
PLACE_FIELDS: tuple[PlaceField, ...] = get_args(PlaceField)


class SignUpRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: str
    display_name: Annotated[str, msgspec.Meta(max_length=100)]
    role: SelfServiceRole = "patient"
    # Staff join with the invitation an operator sent them; it fixes their role.
    invitation: str | None = None
    locale: Locale = "zh-CN"


class SignUpAccepted(msgspec.Struct, kw_only=True):
    """The answer to every sign-up that passes the checks, whether the address was new (the
    account now exists: sign in with it) or already had an account (whose owner is told by
    notification instead), so sign-up does not say who has an account here."""

    email: str
    detail: str = (
        "if this address is new, its account is ready: sign in with it; if it already had "
        "an account, we have sent that account a message"
    )


class PasswordResetRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]


class PasswordResetAccepted(msgspec.Struct, kw_only=True):
    """The same answer for every address, with an account or without."""

    expires_in_seconds: int
    detail: str = "if an account uses this address, we have sent it a link to choose a new password"


class PasswordResetConfirm(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The token from the link, and the new password (the same rules as at sign-up)."""

    token: Annotated[str, msgspec.Meta(max_length=200)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class SignInRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class UserOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    role: Role
    display_name: str
    locale: Locale
    time_zone: str
    created_at: dt.datetime


class SessionOut(msgspec.Struct, kw_only=True):
    """A browser session: the token itself travels only in the HttpOnly cookie."""

    user: UserOut
    csrf_token: str
    expires_at: dt.datetime


class TokenOut(msgspec.Struct, kw_only=True):
    """An API session: send ``Authorization: Bearer <token>``."""

    user: UserOut
    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_at: dt.datetime


class InvitationRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Who is invited as what, and where accepting places them (at most one place, of the
    role's kind): a hospital admin's hospital, a pharmacist's pharmacy. Without a place the
    account joins on its own and is placed later."""

    email: Annotated[str, msgspec.Meta(max_length=254)]
    role: StaffRole
    hospital_id: uuid.UUID | None = None
    pharmacy_id: uuid.UUID | None = None


class PreferencesRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change what the pages show a person: language and time zone (an IANA name)."""

    locale: Locale | None = None
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class InvitationPreview(msgspec.Struct, kw_only=True):
    """What an open invitation is for, shown on the sign-up page before the person joins."""

    email: str
    role: StaffRole
    expires_at: dt.datetime


class InvitationOut(msgspec.Struct, kw_only=True):
    email: str
    role: StaffRole
    token: str
    expires_at: dt.datetime
