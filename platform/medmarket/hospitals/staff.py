"""Hospital admins join their hospital by invitation: the place accounts' invitations put
them (``accounts.places.STAFF_PLACES``, provided in this domain's ``domain.py``)."""

from __future__ import annotations

import uuid
from typing import Final

from medmarket.accounts.schemas import PlaceField, Role
from medmarket.audit import AuditContext
from medmarket.db import Connection


class HospitalAdmins:
    """An invitation's ``hospital_id`` makes the new account an admin of that hospital (of
    any status: a suspended hospital's admins still manage it)."""

    role: Final[Role] = "hospital_admin"
    field: Final[PlaceField] = "hospital_id"
    noun: Final = "partner hospital"

    async def exists(self, connection: Connection, place_id: uuid.UUID) -> bool:
        return bool(await connection.fetchval("SELECT 1 FROM hospitals WHERE id = $1", place_id))

    async def join(
        self,
        connection: Connection,
        user_id: uuid.UUID,
        place_id: uuid.UUID,
        context: AuditContext,
    ) -> None:
        # The sign-up's own event (account.signed_up, with the hospital_id) records it.
        await connection.execute(
            "INSERT INTO hospital_admins (hospital_id, user_id) VALUES ($1, $2)",
            place_id,
            user_id,
        )
