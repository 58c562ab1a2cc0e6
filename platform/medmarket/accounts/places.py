"""Where an invitation places the staff member who accepts it: a hospital admin at a partner
hospital, a pharmacist in a partner pharmacy.

Accounts sends invitations and creates the account that accepts one, but the places staff
join belong to higher domains. So accounts declares what it needs of a place (``StaffPlace``)
and the domain that owns the place provides one to ``STAFF_PLACES`` in its ``domain.py``
(hospitals: hospital admins; pharmacies: pharmacists). An invitation names its place in a
field of ``InvitationRequest`` (``schemas.PLACE_FIELDS``) that the place answers to; the
invitation keeps the id in its ``scope`` until it is accepted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from medmarket.accounts.schemas import PLACE_FIELDS, PlaceField, Role
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.services import Port


class StaffPlace(Protocol):
    """One kind of place staff join by invitation."""

    @property
    def role(self) -> Role:
        """The role an invitation to this kind of place is for."""
        ...

    @property
    def field(self) -> PlaceField:
        """The invitation's field that names the place (``hospital_id``)."""
        ...

    @property
    def noun(self) -> str:
        """What the place is called in a message: "partner hospital"."""
        ...

    async def exists(self, connection: Connection, place_id: uuid.UUID) -> bool:
        """Whether ``place_id`` names a place that takes new staff now (checked when the
        invitation is sent, in its transaction)."""
        ...

    async def join(
        self,
        connection: Connection,
        user_id: uuid.UUID,
        place_id: uuid.UUID,
        context: AuditContext,
    ) -> None:
        """Place the account ``user_id`` (just created, with the place's role) at
        ``place_id``, in the sign-up's transaction, and record it in the audit trail if the
        place keeps its own events. Raises a ``medmarket.errors.Problem`` naming the field
        ``invitation`` when the place no longer takes staff (closed since the invitation
        was sent): the sign-up then fails and the invitation stays open."""
        ...


def check_places(places: Sequence[StaffPlace]) -> None:
    """At start-up: each place answers to a field invitations have, and no field to two."""
    seen: dict[str, StaffPlace] = {}
    for place in places:
        if place.field not in PLACE_FIELDS:
            raise RuntimeError(f"invitations have no field {place.field!r} naming a place")
        if place.field in seen:
            raise RuntimeError(f"two staff places answer to the invitation field {place.field!r}")
        seen[place.field] = place


STAFF_PLACES: Port[StaffPlace] = Port("staff places", many=True, check=check_places)
