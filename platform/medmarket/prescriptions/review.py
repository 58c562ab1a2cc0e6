"""The pharmacists' review desk (审方): what is routed to the pharmacist's pharmacy, and
their decision on it.

Who: a pharmacist working in the pharmacy a prescription was routed to (``routing``). Anyone
else, a pharmacist of another pharmacy or of none, is told the prescription does not exist
(404). A pharmacist who is the prescribing doctor (the same account, or by name at the
doctor's own hospital: what the platform can tell of one person with two accounts) is
refused with 403, and so is one whose licence number (执业药师注册证号) is not recorded.

A decision is a person's act (the 2022 supervision rules forbid automatic or AI approval):
it is made only here, by a signed-in pharmacist through the desk's approve or reject
request; no job, listener or plugin calls ``decide``, a test walks the code and the route
table to keep it so, and the database refuses an approved or rejected status without the
review row naming the pharmacist (migration 0073). The decision, its audit event
(``prescription.approved`` / ``prescription.rejected`` with the pharmacist, the pharmacy, the
reason and the consultation) and the notices to the doctor and the patient's account holder
commit in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database, fetch_one
from medmarket.errors import Forbidden, InvalidInput, NotFound
from medmarket.notifications.service import notify
from medmarket.patients.service import health_record
from medmarket.prescriptions import records
from medmarket.prescriptions.document import read_document
from medmarket.prescriptions.review_schemas import (
    Decision,
    DeskEntry,
    RejectIn,
    ReviewDecision,
    ReviewedPatient,
    ReviewedPrescriber,
)
from medmarket.prescriptions.states import WrongStatus, change_status, standing

_MEMBERSHIP = """
    SELECT m.pharmacy_id, m.licence_number, u.display_name, p.hospital_id
      FROM pharmacy_pharmacists m
      JOIN users u ON u.id = m.user_id
      JOIN pharmacies p ON p.id = m.pharmacy_id
     WHERE m.user_id = $1 AND m.left_at IS NULL
"""
_ENTRY = """
    SELECT r.prescription_id, r.pharmacy_id, r.routed_at, r.decision, r.decided_at,
           r.reason_code, r.reason_text, du.display_name AS decided_by_name,
           p.status, p.expires_at, p.document, p.patient_id,
           (SELECT n.id FROM prescriptions n WHERE n.supersedes = p.id) AS replaced_by
      FROM prescription_reviews r
      JOIN prescriptions p ON p.id = r.prescription_id
      LEFT JOIN users du ON du.id = r.decided_by
"""


def _entry(
    row: asyncpg.Record, allergies: list[str], recorded: bool, now: dt.datetime
) -> DeskEntry:
    content = read_document(row["document"])
    until = row["decided_at"] or now
    review = None
    if row["decision"] is not None:
        review = ReviewDecision(
            decision=row["decision"],
            decided_at=row["decided_at"],
            decided_by=row["decided_by_name"],
            reason_code=row["reason_code"],
            reason_text=row["reason_text"],
        )
    return DeskEntry(
        prescription_id=content.id,
        consultation_id=content.consultation_id,
        version=content.version,
        status=row["status"],
        standing=standing(row["status"], row["expires_at"], row["replaced_by"], now),
        written_at=content.written_at,
        expires_at=content.expires_at,
        routed_at=row["routed_at"],
        waiting_minutes=max(0, int((until - row["routed_at"]).total_seconds() // 60)),
        doctor=ReviewedPrescriber(
            name=content.doctor.name, title=content.doctor.title, hospital=content.doctor.hospital
        ),
        patient=ReviewedPatient(
            age_years=content.patient.age_years,
            sex=content.patient.sex,
            allergies=allergies,
            allergies_recorded=recorded,
        ),
        diagnosis=content.diagnosis,
        chronic_follow_up=content.chronic_follow_up,
        items=content.items,
        findings=content.findings,
        review=review,
    )


async def _now(connection: Connection) -> dt.datetime:
    now: dt.datetime = await connection.fetchval("SELECT now()")
    return now


class ReviewDesk:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _membership(self, connection: Connection, principal: Principal) -> asyncpg.Record:
        if principal.role != "pharmacist":
            raise NotFound(records.NOT_FOUND)
        row = await connection.fetchrow(_MEMBERSHIP, principal.user_id)
        if row is None:
            raise NotFound("you work in no pharmacy: ask an operator or your hospital's admin")
        return row

    async def _described(self, connection: Connection, row: asyncpg.Record) -> DeskEntry:
        record = await health_record(connection, row["patient_id"])
        return _entry(
            row,
            list(record.allergies),
            record.profile_updated_at is not None,
            await _now(connection),
        )

    async def awaiting(self, principal: Principal) -> list[DeskEntry]:
        """What awaits review at the pharmacist's pharmacy, oldest first (expired ones are
        left out: nothing can be done on them but a new prescription)."""
        async with self.db.connection() as connection:
            member = await self._membership(connection, principal)
            rows = await connection.fetch(
                _ENTRY + " WHERE r.pharmacy_id = $1 AND r.decision IS NULL AND p.status = 'issued'"
                " AND p.expires_at > now() ORDER BY p.written_at, p.id",
                member["pharmacy_id"],
            )
            return [await self._described(connection, row) for row in rows]

    async def one(self, principal: Principal, prescription_id: uuid.UUID) -> DeskEntry:
        async with self.db.connection() as connection:
            member = await self._membership(connection, principal)
            return await self._described(
                connection, await self._routed_here(connection, member, prescription_id)
            )

    async def _routed_here(
        self,
        connection: Connection,
        member: asyncpg.Record,
        prescription_id: uuid.UUID,
        *,
        lock: bool = False,
    ) -> asyncpg.Record:
        row = await connection.fetchrow(
            _ENTRY
            + " WHERE r.prescription_id = $1 AND r.pharmacy_id = $2"
            + (" FOR UPDATE OF r" if lock else ""),
            prescription_id,
            member["pharmacy_id"],
        )
        if row is None:
            raise NotFound(records.NOT_FOUND)
        return row

    async def decide(
        self,
        principal: Principal,
        prescription_id: uuid.UUID,
        decision: Decision,
        context: AuditContext,
        rejection: RejectIn | None = None,
        note: str = "",
    ) -> DeskEntry:
        """The pharmacist approves or rejects the prescription (the desk's two requests
        only: see the module's docstring)."""
        reason_code = rejection.reason_code if rejection else None
        text = (rejection.text if rejection else note).strip() or None
        if decision == "rejected" and rejection is None:
            raise InvalidInput("give the reason", field="reason_code", code="required")
        if reason_code == "other" and text is None:
            raise InvalidInput("say why in words", field="text", code="required")
        async with self.db.transaction() as connection:
            member = await self._membership(connection, principal)
            await self._routed_here(connection, member, prescription_id, lock=True)
            prescription = await records.fetch_one(connection, prescription_id, lock=True)
            await self._refuse_own(connection, principal, member, prescription_id)
            if member["licence_number"] is None:
                raise Forbidden(
                    "your licence number (执业药师注册证号) is not recorded: ask your "
                    "pharmacy's manager to record it before you review",
                    field="licence_number",
                    code="licence-missing",
                )
            now = await _now(connection)
            if prescription["status"] != "issued":
                raise WrongStatus(
                    f"the prescription is {prescription['status']}: it is not for review",
                    status_now=prescription["status"],
                )
            if standing("issued", prescription["expires_at"], None, now) == "expired":
                raise WrongStatus(
                    f"the prescription expired at {prescription['expires_at'].isoformat()}: "
                    "the patient needs a new one",
                    status_now="issued",
                    standing="expired",
                )
            # The review row first: the database allows the status only with its decider.
            await connection.execute(
                """
                UPDATE prescription_reviews
                   SET decision = $2, decided_by = $3, decided_role = 'pharmacist',
                       decided_at = now(), reason_code = $4, reason_text = $5
                 WHERE prescription_id = $1 AND decision IS NULL
                """,
                prescription_id,
                decision,
                principal.user_id,
                reason_code,
                text,
            )
            await change_status(
                connection,
                prescription,
                decision,
                context,
                detail={
                    "pharmacist_id": str(principal.user_id),
                    "pharmacist_licence": member["licence_number"],
                    "pharmacy_id": str(member["pharmacy_id"]),
                    **({"reason_code": reason_code} if reason_code else {}),
                    **({"reason_text": text} if text else {}),
                },
            )
            await self._tell(connection, prescription_id, decision, reason_code)
            return await self._described(
                connection, await self._routed_here(connection, member, prescription_id)
            )

    async def _refuse_own(
        self,
        connection: Connection,
        principal: Principal,
        member: asyncpg.Record,
        prescription_id: uuid.UUID,
    ) -> None:
        """A pharmacist does not review what they wrote as a doctor: the same account, or
        the same name at the doctor's own hospital (two accounts of one person; the
        platform keeps no national ID of staff to tell more)."""
        doctor = await fetch_one(
            connection,
            "SELECT d.user_id, d.full_name, d.hospital_id FROM prescriptions p "
            "JOIN doctors d ON d.id = p.doctor_id WHERE p.id = $1",
            prescription_id,
        )
        same_name = "".join(doctor["full_name"].split()) == "".join(member["display_name"].split())
        if doctor["user_id"] == principal.user_id or (
            same_name and member["hospital_id"] == doctor["hospital_id"]
        ):
            raise Forbidden(
                "you wrote this prescription: another pharmacist reviews it",
                field="prescription_id",
                code="own-prescription",
            )

    async def _tell(
        self,
        connection: Connection,
        prescription_id: uuid.UUID,
        decision: Decision,
        reason_code: str | None,
    ) -> None:
        """The doctor and the patient's account holder hear of the decision."""
        people = await fetch_one(
            connection,
            "SELECT d.user_id AS doctor_user, pa.account_id AS holder, p.consultation_id "
            "FROM prescriptions p JOIN doctors d ON d.id = p.doctor_id "
            "JOIN patients pa ON pa.id = p.patient_id WHERE p.id = $1",
            prescription_id,
        )
        params = {
            "prescription_id": str(prescription_id),
            "consultation_id": str(people["consultation_id"]),
            **({"reason_code": reason_code} if reason_code else {}),
        }
        template = f"prescription.{decision}"
        for user_id in (people["doctor_user"], people["holder"]):
            await notify(connection, user_id, template, params, dedupe_key=str(prescription_id))
