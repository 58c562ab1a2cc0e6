"""Pharmacists and the pharmacy they work in. Those who manage a pharmacy (operators, its
hospital's admins) add an existing pharmacist's account to it by e-mail, record the
pharmacist's licence number (执业药师注册证号) and end the membership; an invitation with a
``pharmacy_id`` makes the new account a member when it is accepted (``PharmacistPlace``,
accounts' staff place). A pharmacist works in one pharmacy at a time: the database's unique
index decides, not a read before the write.

Each change is audited on the pharmacy: ``pharmacy.pharmacist_joined``,
``pharmacy.pharmacist_licence_recorded`` and ``pharmacy.pharmacist_left``.
"""

from __future__ import annotations

import uuid
from typing import Final

import asyncpg
from email_validator import EmailNotValidError

from medmarket import audit
from medmarket.accounts.schemas import PlaceField, Role
from medmarket.accounts.service import Principal, normalize_email
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database, fetch_one
from medmarket.errors import Conflict, InvalidInput, NotFound
from medmarket.pharmacies.schemas import (
    MyPharmacy,
    PharmacistIn,
    PharmacistLicenceIn,
    PharmacistOut,
)
from medmarket.pharmacies.service import (
    PharmacyService,
    licence,
    managed_row,
    pharmacist_out,
    refuse_if_closed,
)

_MEMBER = """
    SELECT m.pharmacy_id, m.user_id, u.email, u.display_name, m.licence_number, m.joined_at,
           m.left_at
      FROM pharmacy_pharmacists m JOIN users u ON u.id = m.user_id
"""
_JOIN = """
    INSERT INTO pharmacy_pharmacists (pharmacy_id, user_id, licence_number, joined_by)
    VALUES ($1, $2, $3, $4)
    RETURNING id
"""
_CONFLICTS = {
    "pharmacy_pharmacists_one_pharmacy": Conflict(
        "this pharmacist already works in a pharmacy: end that membership first",
        field="email",
        code="has-pharmacy",
    ),
    "pharmacy_pharmacists_live_licence": Conflict(
        "another pharmacist works under this licence number",
        field="licence_number",
        code="taken",
    ),
}


def membership_conflict(exc: asyncpg.UniqueViolationError) -> Conflict | None:
    return _CONFLICTS.get(exc.constraint_name or "")


async def _joined(
    connection: Connection,
    pharmacy_id: uuid.UUID,
    user_id: uuid.UUID,
    licence_number: str | None,
    context: AuditContext,
    *,
    via: str,
) -> PharmacistOut:
    try:
        async with connection.transaction():
            membership = await connection.fetchval(
                _JOIN, pharmacy_id, user_id, licence_number, context.actor_id
            )
    except asyncpg.UniqueViolationError as exc:
        conflict = membership_conflict(exc)
        if conflict is None:
            raise
        raise conflict from None
    await audit.record(
        connection,
        context,
        "pharmacy.pharmacist_joined",
        "pharmacy",
        pharmacy_id,
        detail={"user_id": str(user_id), "licence_number": licence_number, "via": via},
    )
    row = await fetch_one(connection, _MEMBER + " WHERE m.id = $1", membership)
    return pharmacist_out(row)


class PharmacyMembers:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def mine(self, principal: Principal) -> MyPharmacy | None:
        """The pharmacy ``principal`` works in now, if any."""
        async with self.db.connection() as connection:
            row = await connection.fetchrow(
                _MEMBER + " WHERE m.user_id = $1 AND m.left_at IS NULL", principal.user_id
            )
            if row is None:
                return None
            pharmacy = await PharmacyService(self.db).public(connection, row["pharmacy_id"])
        return MyPharmacy(pharmacy=pharmacy, membership=pharmacist_out(row))

    async def add(
        self,
        principal: Principal,
        pharmacy_id: uuid.UUID,
        data: PharmacistIn,
        context: AuditContext,
    ) -> PharmacistOut:
        """An existing pharmacist's account joins the pharmacy. Another role's account is
        refused like an address nobody uses (the database refuses it too)."""
        try:
            email = normalize_email(data.email)
        except EmailNotValidError as exc:
            raise InvalidInput(str(exc), field="email", code="invalid-email") from None
        licence_number = licence(data.licence_number)
        async with self.db.transaction() as connection:
            refuse_if_closed(await managed_row(connection, principal, pharmacy_id))
            user_id = await connection.fetchval(
                "SELECT id FROM users WHERE email = $1 AND role = 'pharmacist' "
                "AND disabled_at IS NULL",
                email,
            )
            if user_id is None:
                raise InvalidInput(
                    "no pharmacist's account uses this address: invite them instead",
                    field="email",
                    code="not-a-pharmacist",
                )
            return await _joined(
                connection, pharmacy_id, user_id, licence_number, context, via="added"
            )

    async def record_licence(
        self,
        principal: Principal,
        pharmacy_id: uuid.UUID,
        user_id: uuid.UUID,
        data: PharmacistLicenceIn,
        context: AuditContext,
    ) -> PharmacistOut:
        """Record (or correct) the licence number of a pharmacist working here now."""
        licence_number = licence(data.licence_number)
        if licence_number is None:
            raise InvalidInput("enter the licence number", field="licence_number", code="required")
        async with self.db.transaction() as connection:
            refuse_if_closed(await managed_row(connection, principal, pharmacy_id))
            before = await connection.fetchrow(
                "SELECT id, licence_number FROM pharmacy_pharmacists "
                "WHERE pharmacy_id = $1 AND user_id = $2 AND left_at IS NULL FOR UPDATE",
                pharmacy_id,
                user_id,
            )
            if before is None:
                raise NotFound("this pharmacist does not work in this pharmacy")
            try:
                async with connection.transaction():
                    await connection.execute(
                        "UPDATE pharmacy_pharmacists SET licence_number = $2 WHERE id = $1",
                        before["id"],
                        licence_number,
                    )
            except asyncpg.UniqueViolationError as exc:
                conflict = membership_conflict(exc)
                if conflict is None:
                    raise
                raise conflict from None
            if before["licence_number"] != licence_number:
                await audit.record(
                    connection,
                    context,
                    "pharmacy.pharmacist_licence_recorded",
                    "pharmacy",
                    pharmacy_id,
                    detail={
                        "user_id": str(user_id),
                        "licence_number": [before["licence_number"], licence_number],
                    },
                )
            row = await fetch_one(connection, _MEMBER + " WHERE m.id = $1", before["id"])
        return pharmacist_out(row)

    async def end(
        self,
        principal: Principal,
        pharmacy_id: uuid.UUID,
        user_id: uuid.UUID,
        context: AuditContext,
    ) -> PharmacistOut:
        """The pharmacist no longer works here (and may join another pharmacy)."""
        async with self.db.transaction() as connection:
            await managed_row(connection, principal, pharmacy_id)
            ended = await connection.fetchval(
                """
                UPDATE pharmacy_pharmacists SET left_at = now(), left_by = $3
                 WHERE pharmacy_id = $1 AND user_id = $2 AND left_at IS NULL
                RETURNING id
                """,
                pharmacy_id,
                user_id,
                context.actor_id,
            )
            if ended is None:
                raise NotFound("this pharmacist does not work in this pharmacy")
            await audit.record(
                connection,
                context,
                "pharmacy.pharmacist_left",
                "pharmacy",
                pharmacy_id,
                detail={"user_id": str(user_id)},
            )
            row = await fetch_one(connection, _MEMBER + " WHERE m.id = $1", ended)
        return pharmacist_out(row)


class PharmacistPlace:
    """Accounts' staff place for pharmacists: an invitation's ``pharmacy_id`` names an open
    pharmacy, and accepting it makes the new account a member (its licence number recorded
    later)."""

    role: Final[Role] = "pharmacist"
    field: Final[PlaceField] = "pharmacy_id"
    noun: Final = "open partner pharmacy"

    async def exists(self, connection: Connection, place_id: uuid.UUID) -> bool:
        return bool(
            await connection.fetchval(
                "SELECT 1 FROM pharmacies WHERE id = $1 AND closed_at IS NULL", place_id
            )
        )

    async def join(
        self,
        connection: Connection,
        user_id: uuid.UUID,
        place_id: uuid.UUID,
        context: AuditContext,
    ) -> None:
        closed = await connection.fetchval(
            "SELECT closed_at IS NOT NULL FROM pharmacies WHERE id = $1 FOR SHARE", place_id
        )
        if closed is not False:
            raise InvalidInput(
                "the pharmacy this invitation is for has closed; ask for a new invitation",
                field="invitation",
                code="pharmacy-closed",
            )
        await _joined(connection, place_id, user_id, None, context, via="invitation")
