"""Who may see which doctor's application: the doctor themself, operators, and the admins of
the doctor's hospital. Everyone else gets the same 404 as for a doctor that does not exist,
so the answer never reveals that a doctor applied."""

from __future__ import annotations

import uuid

import asyncpg

from medmarket.accounts.service import Principal
from medmarket.db import Connection
from medmarket.errors import NotFound

NOT_FOUND = "no such doctor"


# The rule itself is the SQL function may_see_doctor (migration 0010).
_VISIBLE = """
    SELECT d.* FROM doctors d
     WHERE d.id = $1 AND may_see_doctor($2, $3, d.user_id, d.hospital_id)
"""
_VISIBLE_LOCKED = """
    SELECT d.* FROM doctors d
     WHERE d.id = $1 AND may_see_doctor($2, $3, d.user_id, d.hospital_id)
       FOR UPDATE OF d
"""
_OWN = "SELECT * FROM doctors WHERE user_id = $1"
_OWN_LOCKED = "SELECT * FROM doctors WHERE user_id = $1 FOR UPDATE"


async def visible_doctor(
    connection: Connection | asyncpg.Pool,
    principal: Principal,
    doctor_id: uuid.UUID,
    *,
    lock: bool = False,
) -> asyncpg.Record:
    row = await connection.fetchrow(
        _VISIBLE_LOCKED if lock else _VISIBLE, doctor_id, principal.role, principal.user_id
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


async def own_doctor(
    connection: Connection | asyncpg.Pool, principal: Principal, *, lock: bool = False
) -> asyncpg.Record:
    """The signed-in doctor's own application."""
    row = await connection.fetchrow(_OWN_LOCKED if lock else _OWN, principal.user_id)
    if row is None:
        raise NotFound("you have not applied yet; save your application first")
    return row
