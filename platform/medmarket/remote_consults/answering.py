"""The invited expert's side of a case: accept one of the case's times, decline with a
reason, or propose another time; once the case is scheduled, an expert who accepted writes
their opinion, once. The requester is told of each answer, and when every expert answered."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from medmarket.notifications.service import notify
from medmarket.remote_consults import queries
from medmarket.remote_consults.opening import written
from medmarket.remote_consults.schemas import (
    AcceptIn,
    CaseOut,
    DeclineIn,
    OpinionIn,
    ProposeIn,
)
from medmarket.remote_consults.states import (
    SUBJECT,
    TAKES_OPINIONS,
    UNANSWERED,
    WrongCaseStatus,
    WrongInvitationStatus,
    move_case,
    move_invitation,
    record_event,
)

NO_INVITATION = "no such invitation of yours"
ONLY_EXPERTS = "only an invited expert may do this"


def _times_wrong(message: str) -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(field="at", message=message)])


class OpinionGiven(Conflict):
    """The expert wrote their opinion already: opinions are written once."""

    slug, title = "opinion-given", "Your opinion on this case is recorded already"


class Answering:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _mine(
        self,
        connection: Connection,
        principal: Principal,
        case_id: uuid.UUID,
        invitation_id: uuid.UUID | None = None,
    ) -> tuple[asyncpg.Record, asyncpg.Record]:
        """The case and the principal's invitation in it, both locked; the requester gets
        403 (an expert's step is not theirs), anyone else 404."""
        case = await queries.visible(connection, principal, case_id, lock=True)
        mine = case["my_invitation_id"]
        if mine is None and queries.is_requester(principal, case):
            raise Forbidden(ONLY_EXPERTS, field="invitation_id", code="not-expert")
        if mine is None or (invitation_id is not None and mine != invitation_id):
            raise NotFound(NO_INVITATION, field="invitation_id")
        invitation = await connection.fetchrow(
            "SELECT * FROM remote_consultation_invitations WHERE id = $1 FOR UPDATE", mine
        )
        assert invitation is not None  # the case's row lock holds its invitations
        return case, invitation

    @staticmethod
    def _still_open(case: asyncpg.Record) -> None:
        if case["status"] != "open":
            raise WrongCaseStatus(
                f"the case is {case['status']}: its time is settled", status_now=case["status"]
            )

    async def _told_requester(
        self,
        connection: Connection,
        case: asyncpg.Record,
        template: str,
        event: int,
        **params: object,
    ) -> None:
        await notify(
            connection,
            case["requester_user_id"],
            template,
            {"case_id": case["id"], **params},
            dedupe_key=f"{case['id']}:{event}",
        )
        answers = await connection.fetch(
            "SELECT status FROM remote_consultation_invitations WHERE consultation_id = $1",
            case["id"],
        )
        if any(answer["status"] in UNANSWERED for answer in answers):
            return
        accepted = any(answer["status"] == "accepted" for answer in answers)
        await notify(
            connection,
            case["requester_user_id"],
            "remote_consult.ready_to_schedule" if accepted else "remote_consult.all_declined",
            {"case_id": case["id"]},
            dedupe_key=f"{case['id']}:{event}",
        )

    async def accept(
        self,
        principal: Principal,
        case_id: uuid.UUID,
        invitation_id: uuid.UUID,
        data: AcceptIn,
        context: AuditContext,
    ) -> CaseOut:
        """Take one of the case's times: one the requester proposed, or one the requester
        took from another expert's proposal."""
        async with self.db.transaction() as connection:
            case, invitation = await self._mine(connection, principal, case_id, invitation_id)
            self._still_open(case)
            taken = await connection.fetch(
                "SELECT accepted_time FROM remote_consultation_invitations "
                "WHERE consultation_id = $1 AND status = 'accepted'",
                case_id,
            )
            times = set(case["proposed_times"]) | {row["accepted_time"] for row in taken}
            if data.at not in times:
                raise _times_wrong("not one of the case's times: propose it instead")
            if data.at <= dt.datetime.now(dt.UTC):
                raise _times_wrong("that time is past: propose another")
            event = await move_invitation(
                connection, invitation, "accepted", context, detail={"accepted_time": data.at}
            )
            await self._told_requester(
                connection, case, "remote_consult.invitation_accepted", event, at=data.at
            )
            return await self._fresh(connection, principal, case_id)

    async def decline(
        self,
        principal: Principal,
        case_id: uuid.UUID,
        invitation_id: uuid.UUID,
        data: DeclineIn,
        context: AuditContext,
    ) -> CaseOut:
        """Decline, saying why; the expert keeps the case's header, not its clinical content."""
        async with self.db.transaction() as connection:
            case, invitation = await self._mine(connection, principal, case_id, invitation_id)
            self._still_open(case)
            reason = written("reason", data.reason)
            event = await move_invitation(
                connection,
                invitation,
                "declined",
                context,
                note=reason,
                detail={"decline_reason": reason},
            )
            await self._told_requester(
                connection, case, "remote_consult.invitation_declined", event, reason=reason
            )
            return await self._fresh(connection, principal, case_id)

    async def propose(
        self,
        principal: Principal,
        case_id: uuid.UUID,
        invitation_id: uuid.UUID,
        data: ProposeIn,
        context: AuditContext,
    ) -> CaseOut:
        """Ask for another time; the requester takes it or asks again."""
        async with self.db.transaction() as connection:
            case, invitation = await self._mine(connection, principal, case_id, invitation_id)
            self._still_open(case)
            if data.at <= dt.datetime.now(dt.UTC):
                raise _times_wrong("propose a time in the future")
            event = await move_invitation(
                connection,
                invitation,
                "proposed",
                context,
                note=data.note,
                detail={"proposed_time": data.at, "proposal_note": data.note.strip()},
            )
            await self._told_requester(
                connection, case, "remote_consult.time_proposed", event, at=data.at
            )
            return await self._fresh(connection, principal, case_id)

    async def give_opinion(
        self, principal: Principal, case_id: uuid.UUID, data: OpinionIn, context: AuditContext
    ) -> CaseOut:
        """The opinion of an expert who accepted, once the case is scheduled; written once."""
        async with self.db.transaction() as connection:
            case, invitation = await self._mine(connection, principal, case_id)
            if invitation["status"] != "accepted":
                raise WrongInvitationStatus(
                    f"your invitation is {invitation['status']}: "
                    "only an expert who accepted gives an opinion",
                    status_now=invitation["status"],
                )
            if case["status"] not in TAKES_OPINIONS:
                raise WrongCaseStatus(
                    f"the case is {case['status']}: opinions come once it is scheduled",
                    status_now=case["status"],
                )
            opinion_id = await connection.fetchval(
                """
                INSERT INTO remote_consultation_opinions
                       (consultation_id, invitation_id, text, assessment, recommendation)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (invitation_id) DO NOTHING RETURNING id
                """,
                case_id,
                invitation["id"],
                written("text", data.text),
                data.assessment,
                data.recommendation,
            )
            if opinion_id is None:
                raise OpinionGiven("you gave your opinion on this case already", field="text")
            event = await record_event(
                connection, case_id, invitation["id"], "opinion_given", context
            )
            await audit.record(
                connection,
                context,
                "remote_consult.opinion_given",
                SUBJECT,
                case_id,
                detail={"invitation_id": str(invitation["id"]), "opinion_id": str(opinion_id)},
            )
            if case["status"] != "opinions":
                await move_case(connection, case, "opinions", context)
            await notify(
                connection,
                case["requester_user_id"],
                "remote_consult.opinion_given",
                {"case_id": case_id, "opinion_id": opinion_id},
                dedupe_key=f"{case_id}:{event}",
            )
            return await self._fresh(connection, principal, case_id)

    async def _fresh(
        self, connection: Connection, principal: Principal, case_id: uuid.UUID
    ) -> CaseOut:
        row = await queries.visible(connection, principal, case_id)
        return await queries.full(connection, row, principal)
