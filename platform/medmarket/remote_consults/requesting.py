"""The requesting doctor's side of a case: open it, answer an expert's proposed time,
schedule it once every expert answered and one accepted, open the session, record the
decision once an opinion came in, or call it off. Each step tells the experts it concerns."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from medmarket.notifications.service import notify
from medmarket.remote_consults import queries
from medmarket.remote_consults.opening import open_case, written
from medmarket.remote_consults.schemas import (
    CancelIn,
    CaseIn,
    CaseOut,
    DecisionIn,
    ProposalAnswerIn,
    ScheduleIn,
)
from medmarket.remote_consults.states import (
    UNANSWERED,
    CaseStatus,
    WrongCaseStatus,
    WrongInvitationStatus,
    move_case,
    move_invitation,
)

ONLY_REQUESTER = "only the requesting doctor may do this"


async def expert_users(
    connection: Connection, case_id: uuid.UUID, statuses: tuple[str, ...]
) -> list[uuid.UUID]:
    """The user ids of the case's experts whose invitation is in ``statuses``."""
    rows = await connection.fetch(
        """
        SELECT d.user_id FROM remote_consultation_invitations i
          JOIN doctors d ON d.id = i.expert_id
         WHERE i.consultation_id = $1 AND i.status = ANY($2::text[])
         ORDER BY i.created_at, i.id
        """,
        case_id,
        list(statuses),
    )
    return [row["user_id"] for row in rows]


async def tell(
    connection: Connection,
    users: list[uuid.UUID],
    template: str,
    case_id: uuid.UUID,
    event: int,
    **params: object,
) -> None:
    for user in users:
        await notify(
            connection,
            user,
            template,
            {"case_id": case_id, **params},
            dedupe_key=f"{case_id}:{event}",
        )


class Requesting:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading ---------------------------------------------------------------------------
    async def list(self, principal: Principal) -> list[CaseOut]:
        async with self.db.connection() as connection:
            return await queries.listed(connection, principal)

    async def read(self, principal: Principal, case_id: uuid.UUID) -> CaseOut:
        async with self.db.connection() as connection:
            row = await queries.visible(connection, principal, case_id)
            return await queries.full(connection, row, principal)

    async def _own(
        self, connection: Connection, principal: Principal, case_id: uuid.UUID
    ) -> asyncpg.Record:
        """The case, locked, if the principal requested it; an expert of it gets 403 (they
        see the case, it is not theirs to steer), anyone else 404."""
        row = await queries.visible(connection, principal, case_id, lock=True)
        if not queries.is_requester(principal, row):
            raise Forbidden(ONLY_REQUESTER, field="case_id", code="not-requester")
        return row

    # -- steps -----------------------------------------------------------------------------
    async def open(self, principal: Principal, data: CaseIn, context: AuditContext) -> CaseOut:
        async with self.db.transaction() as connection:
            case_id = await open_case(connection, principal, data, context)
            row = await queries.visible(connection, principal, case_id)
            return await queries.full(connection, row, principal)

    async def answer_proposal(
        self,
        principal: Principal,
        case_id: uuid.UUID,
        data: ProposalAnswerIn,
        context: AuditContext,
    ) -> CaseOut:
        """Take an expert's proposed time (the invitation is accepted at it, and it becomes
        a time the case may be scheduled at) or ask them again for one of the case's times."""
        async with self.db.transaction() as connection:
            row = await self._own(connection, principal, case_id)
            if row["status"] != "open":
                raise WrongCaseStatus(
                    f"the case is {row['status']}: its time is settled", status_now=row["status"]
                )
            invitation = await connection.fetchrow(
                "SELECT i.*, d.user_id FROM remote_consultation_invitations i "
                "JOIN doctors d ON d.id = i.expert_id "
                "WHERE i.id = $1 AND i.consultation_id = $2 FOR UPDATE OF i",
                data.invitation_id,
                case_id,
            )
            if invitation is None:
                raise NotFound("no such invitation in this case", field="invitation_id")
            if invitation["status"] != "proposed":
                raise WrongInvitationStatus(
                    f"the invitation is {invitation['status']}: there is no time to answer",
                    status_now=invitation["status"],
                )
            if data.answer == "accept":
                if invitation["proposed_time"] <= dt.datetime.now(dt.UTC):
                    raise Conflict(
                        "the proposed time is past: ask the expert again", field="invitation_id"
                    )
                event = await move_invitation(
                    connection,
                    invitation,
                    "accepted",
                    context,
                    note=data.note,
                    detail={"accepted_time": invitation["proposed_time"]},
                )
                template = "remote_consult.proposal_accepted"
            else:
                event = await move_invitation(
                    connection, invitation, "invited", context, note=data.note
                )
                template = "remote_consult.asked_again"
            await tell(connection, [invitation["user_id"]], template, case_id, event)
            return await self._fresh(connection, principal, case_id)

    async def schedule(
        self, principal: Principal, case_id: uuid.UUID, data: ScheduleIn, context: AuditContext
    ) -> CaseOut:
        """Fix the time, once every expert answered and at least one accepted: a time an
        accepting expert took. The accepted experts are told."""
        async with self.db.transaction() as connection:
            row = await self._own(connection, principal, case_id)
            answers = await connection.fetch(
                "SELECT status, accepted_time FROM remote_consultation_invitations "
                "WHERE consultation_id = $1",
                case_id,
            )
            if row["status"] != "open":
                raise WrongCaseStatus(
                    f"the case is {row['status']}: it was scheduled or called off",
                    status_now=row["status"],
                )
            waiting = sum(answer["status"] in UNANSWERED for answer in answers)
            if waiting:
                raise Conflict(f"{waiting} expert(s) have not answered yet", field="invitations")
            taken = {a["accepted_time"] for a in answers if a["status"] == "accepted"}
            if not taken:
                raise Conflict("no expert accepted: call the case off", field="invitations")
            if data.at not in taken:
                raise InvalidInput(
                    "schedule at a time an expert accepted",
                    errors=[
                        FieldError(
                            field="at",
                            message="one of: "
                            + ", ".join(sorted(time.isoformat() for time in taken)),
                        )
                    ],
                )
            if data.at <= dt.datetime.now(dt.UTC):
                raise InvalidInput(
                    "that time is past",
                    errors=[FieldError(field="at", message="that time is past: ask again")],
                )
            await connection.execute(
                "UPDATE remote_consultations SET scheduled_at = $2 WHERE id = $1",
                case_id,
                data.at,
            )
            event = await move_case(
                connection, row, "scheduled", context, detail={"scheduled_at": data.at.isoformat()}
            )
            experts = await expert_users(connection, case_id, ("accepted",))
            await tell(connection, experts, "remote_consult.scheduled", case_id, event, at=data.at)
            return await self._fresh(connection, principal, case_id)

    async def start(
        self, principal: Principal, case_id: uuid.UUID, context: AuditContext
    ) -> CaseOut:
        """The session begins (the video room of a later increment attaches here)."""
        async with self.db.transaction() as connection:
            row = await self._own(connection, principal, case_id)
            event = await move_case(connection, row, "in_session", context)
            experts = await expert_users(connection, case_id, ("accepted",))
            await tell(connection, experts, "remote_consult.in_session", case_id, event)
            return await self._fresh(connection, principal, case_id)

    async def record_decision(
        self, principal: Principal, case_id: uuid.UUID, data: DecisionIn, context: AuditContext
    ) -> CaseOut:
        """The requester's decision, once: advisory opinions, their responsibility."""
        async with self.db.transaction() as connection:
            row = await self._own(connection, principal, case_id)
            if row["status"] != "opinions":
                raise WrongCaseStatus(
                    f"the case is {row['status']}: decide once an expert gave an opinion",
                    status_now=row["status"],
                )
            await connection.execute(
                "UPDATE remote_consultations SET decision = $2, decided_at = now() WHERE id = $1",
                case_id,
                written("text", data.text),
            )
            event = await move_case(connection, row, "decided", context, detail={"advisory": True})
            experts = await expert_users(connection, case_id, ("accepted",))
            await tell(connection, experts, "remote_consult.decided", case_id, event)
            return await self._fresh(connection, principal, case_id)

    async def cancel(
        self, principal: Principal, case_id: uuid.UUID, data: CancelIn, context: AuditContext
    ) -> CaseOut:
        """Call the case off: withdrawn while it is open, cancelled once scheduled. Every
        expert who did not decline is told."""
        async with self.db.transaction() as connection:
            row = await self._own(connection, principal, case_id)
            target: CaseStatus = "withdrawn" if row["status"] == "open" else "cancelled"
            # Set before the move, which refuses (and so rolls back) a case past its session.
            await connection.execute(
                "UPDATE remote_consultations SET cancel_reason = $2 WHERE id = $1",
                case_id,
                written("reason", data.reason),
            )
            event = await move_case(connection, row, target, context, note=data.reason)
            experts = await expert_users(connection, case_id, ("invited", "accepted", "proposed"))
            await tell(
                connection, experts, f"remote_consult.{target}", case_id, event, reason=data.reason
            )
            return await self._fresh(connection, principal, case_id)

    async def _fresh(
        self, connection: Connection, principal: Principal, case_id: uuid.UUID
    ) -> CaseOut:
        row = await queries.visible(connection, principal, case_id)
        return await queries.full(connection, row, principal)
