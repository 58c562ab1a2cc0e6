"""Colleagues the doctor invites into a consultation (a multi-disciplinary consult): approved
doctors, at most as many as the room holds beside the patient and the doctor. A removed
colleague loses access at once: every request answers 404 again, and their connection to the
room is closed on every instance and may not come back.

Both are idempotent (PUT and DELETE), because the room is told after the database commits:
when it cannot be told (Redis is down), the caller gets a 503 and simply repeats the request.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable

from redis.exceptions import RedisError

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.consults.access import colleagues, participation, require_own_doctor
from medmarket.consults.room import RoomControl
from medmarket.consults.schemas import ENDED, ColleagueOut
from medmarket.consults.service import ConsultationOver
from medmarket.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from medmarket.notifications.service import notify
from medmarket.services import Services

# The patient and the doctor take two of the room's seats.
OWN_SEATS = 2


class Colleagues:
    def __init__(self, services: Services, room: RoomControl) -> None:
        self.db = services.db
        self.room = room
        self.limit = services.settings.signaling_max_participants - OWN_SEATS

    async def listing(self, principal: Principal, consultation_id: uuid.UUID) -> list[ColleagueOut]:
        """Every invitation, removed ones too (who could be there, from when to when)."""
        await participation(self.db.pool, consultation_id, principal.user_id)
        return await colleagues(self.db.pool, consultation_id)

    async def invite(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        doctor_id: uuid.UUID,
        context: AuditContext,
    ) -> ColleagueOut:
        async with self.db.transaction() as connection:
            row = await participation(connection, consultation_id, principal.user_id, lock=True)
            require_own_doctor(row, "invite colleagues")
            if row["status"] in ENDED:
                raise ConsultationOver(f"this consultation is {row['status']}", field="status")
            colleague = await connection.fetchrow(
                "SELECT id, user_id, full_name FROM doctors WHERE id = $1 AND status = 'approved'",
                doctor_id,
            )
            if colleague is None:
                raise NotFound("no such doctor", field="doctor_id")
            if colleague["id"] == row["doctor_id"]:
                raise InvalidInput(
                    "you are this consultation's doctor already", field="doctor_id", code="self"
                )
            live = await connection.fetch(
                "SELECT doctor_id FROM consultation_colleagues "
                "WHERE consultation_id = $1 AND removed_at IS NULL",
                consultation_id,
            )
            if doctor_id not in {r["doctor_id"] for r in live}:
                if len(live) >= self.limit:
                    raise Conflict(
                        f"a consultation holds at most {self.limit} colleagues; remove one first",
                        field="doctor_id",
                        code="room-full",
                    )
                invitation_id = await connection.fetchval(
                    "INSERT INTO consultation_colleagues (consultation_id, doctor_id, invited_by) "
                    "VALUES ($1, $2, $3) RETURNING id",
                    consultation_id,
                    doctor_id,
                    principal.user_id,
                )
                await audit.record(
                    connection,
                    context,
                    "consultation.colleague_invited",
                    "consultation",
                    consultation_id,
                    consultation_id=consultation_id,
                    detail={"doctor_id": str(doctor_id), "user_id": str(colleague["user_id"])},
                )
                await notify(
                    connection,
                    colleague["user_id"],
                    "consultation.invited",
                    {"starts_at": row["starts_at"].isoformat(), "doctor": row["doctor_name"]},
                    dedupe_key=str(invitation_id),
                    urgency="high",
                )
            invited = await colleagues(connection, consultation_id)
        # Invited back after a removal: the room must let them in again.
        await self._tell_room(
            self.room.readmit_participant(consultation_id, str(colleague["user_id"]))
        )
        return next(c for c in invited if c.doctor_id == doctor_id and c.removed_at is None)

    async def remove(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        doctor_id: uuid.UUID,
        context: AuditContext,
    ) -> None:
        async with self.db.transaction() as connection:
            row = await participation(connection, consultation_id, principal.user_id, lock=True)
            require_own_doctor(row, "remove colleagues")
            removed = await connection.fetchrow(
                """
                UPDATE consultation_colleagues i SET removed_at = now(), removed_by = $3
                  FROM doctors g
                 WHERE g.id = i.doctor_id AND i.consultation_id = $1 AND i.doctor_id = $2
                   AND i.removed_at IS NULL
                RETURNING i.id, g.user_id
                """,
                consultation_id,
                doctor_id,
                principal.user_id,
            )
            if removed is None:
                # Removed before (a repeated request): tell the room again, change nothing.
                removed = await connection.fetchrow(
                    "SELECT i.id, g.user_id FROM consultation_colleagues i "
                    "JOIN doctors g ON g.id = i.doctor_id "
                    "WHERE i.consultation_id = $1 AND i.doctor_id = $2",
                    consultation_id,
                    doctor_id,
                )
                if removed is None:
                    raise NotFound("no such colleague in this consultation", field="doctor_id")
            else:
                await audit.record(
                    connection,
                    context,
                    "consultation.colleague_removed",
                    "consultation",
                    consultation_id,
                    consultation_id=consultation_id,
                    detail={"doctor_id": str(doctor_id), "user_id": str(removed["user_id"])},
                )
        await self._tell_room(
            self.room.remove_participant(consultation_id, str(removed["user_id"]))
        )

    @staticmethod
    async def _tell_room(call: Awaitable[None]) -> None:
        try:
            await call
        except (RedisError, OSError):
            raise ServiceUnavailable(
                "saved, but the call could not be told yet; repeat the request"
            ) from None
