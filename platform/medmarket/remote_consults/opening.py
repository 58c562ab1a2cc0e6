"""Opening a case: the requesting doctor asks one expert or a team (MDT) about a patient of
their visits, with the patient's consent recorded on the spot, the question, the history,
how soon, the times they propose and the visit's files. Every expert is invited and told."""

from __future__ import annotations

import datetime as dt
import uuid

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.errors import FieldError, InvalidInput, NotFound
from medmarket.notifications.service import notify
from medmarket.remote_consults.schemas import CaseIn
from medmarket.remote_consults.states import SUBJECT, record_event

# A visit that makes the patient the requester's to present: paid and under way, or over.
VISITS = ("confirmed", "completed", "terminated")


def _refuse(field: str, message: str, detail: str | None = None) -> InvalidInput:
    return InvalidInput(detail or message, errors=[FieldError(field=field, message=message)])


def written(field: str, value: str) -> str:
    """``value`` without surrounding blanks; 422 naming ``field`` when that leaves nothing
    to read (the tables want two characters at least)."""
    text = value.strip()
    if len(text) < 2:
        raise _refuse(field, "write at least two characters")
    return text


def check_consent(data: CaseIn, now: dt.datetime) -> dt.datetime:
    """When the patient agreed; 422 naming ``consent`` unless they did."""
    if not data.consent.given:
        raise _refuse(
            "consent", "the patient's consent to share is required", "no consent to share"
        )
    at = data.consent.at or now
    if at > now + dt.timedelta(minutes=1):
        raise _refuse("consent.at", "consent cannot be given in the future")
    return at


def check_times(data: CaseIn, now: dt.datetime) -> list[dt.datetime]:
    errors = [
        FieldError(field=f"proposed_times[{index}]", message="must be in the future")
        for index, at in enumerate(data.proposed_times)
        if at <= now
    ]
    if errors:
        raise InvalidInput("a proposed time is past", errors=errors)
    return sorted(set(data.proposed_times))


async def requester_doctor(
    connection: Connection, principal: Principal
) -> tuple[uuid.UUID, uuid.UUID]:
    """The requester's doctor id and hospital; only an approved doctor asks."""
    row = await connection.fetchrow(
        "SELECT id, hospital_id FROM doctors WHERE user_id = $1 AND status = 'approved'",
        principal.user_id,
    )
    if row is None:
        raise NotFound("no approved doctor profile", field="doctor")
    return row["id"], row["hospital_id"]


async def latest_visit(
    connection: Connection, doctor_id: uuid.UUID, patient_id: uuid.UUID
) -> uuid.UUID:
    """The requester's latest visit with the patient; 404 when the patient is not theirs."""
    booking_id: uuid.UUID | None = await connection.fetchval(
        """
        SELECT id FROM bookings
         WHERE doctor_id = $1 AND patient_id = $2 AND status = ANY($3::text[])
         ORDER BY lower(during) DESC LIMIT 1
        """,
        doctor_id,
        patient_id,
        list(VISITS),
    )
    if booking_id is None:
        raise NotFound("no patient of your visits", field="patient_id")
    return booking_id


async def check_experts(
    connection: Connection, requester_id: uuid.UUID, expert_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Each expert's doctor id and user id, in the order given; 422 naming the one that is
    not an approved doctor, is the requester, or is named twice."""
    rows = await connection.fetch(
        "SELECT id, user_id FROM doctors WHERE id = ANY($1::uuid[]) AND status = 'approved'",
        expert_ids,
    )
    users = {row["id"]: row["user_id"] for row in rows}
    errors: list[FieldError] = []
    seen: set[uuid.UUID] = set()
    for index, expert in enumerate(expert_ids):
        field = f"expert_ids[{index}]"
        if expert == requester_id:
            errors.append(FieldError(field=field, message="you cannot ask yourself"))
        elif expert in seen:
            errors.append(FieldError(field=field, message="named twice"))
        elif expert not in users:
            errors.append(FieldError(field=field, message="not an approved doctor"))
        seen.add(expert)
    if errors:
        raise InvalidInput("an expert cannot be asked", errors=errors)
    return [(expert, users[expert]) for expert in expert_ids]


async def check_attachments(
    connection: Connection,
    doctor_id: uuid.UUID,
    patient_id: uuid.UUID,
    attachment_ids: list[uuid.UUID],
) -> None:
    """Each file was shared in one of the patient's visits with the requester."""
    if not attachment_ids:
        return
    known = {
        row["id"]
        for row in await connection.fetch(
            """
            SELECT a.id FROM consultation_attachments a
              JOIN consultations c ON c.id = a.consultation_id
              JOIN bookings b ON b.id = c.booking_id
             WHERE b.doctor_id = $1 AND b.patient_id = $2 AND a.id = ANY($3::uuid[])
            """,
            doctor_id,
            patient_id,
            attachment_ids,
        )
    }
    errors = [
        FieldError(field=f"attachment_ids[{index}]", message="not a file of this patient's visits")
        for index, attachment in enumerate(attachment_ids)
        if attachment not in known
    ]
    if errors:
        raise InvalidInput("a file is not of this patient's visits", errors=errors)


async def open_case(
    connection: Connection, principal: Principal, data: CaseIn, context: AuditContext
) -> uuid.UUID:
    """Insert the case and its invitations, audited, on the timeline, every expert told."""
    now = dt.datetime.now(dt.UTC)
    consent_at = check_consent(data, now)
    question = written("question", data.question)
    history = written("clinical_history", data.clinical_history)
    times = check_times(data, now)
    requester_id, hospital_id = await requester_doctor(connection, principal)
    booking_id = await latest_visit(connection, requester_id, data.patient_id)
    experts = await check_experts(connection, requester_id, data.expert_ids)
    await check_attachments(connection, requester_id, data.patient_id, data.attachment_ids)
    case_id: uuid.UUID = await connection.fetchval(
        """
        INSERT INTO remote_consultations
               (requester_id, requester_hospital_id, patient_id, booking_id, question,
                clinical_history, urgency, proposed_times, consent_how, consent_witnessed_by,
                consent_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id
        """,
        requester_id,
        hospital_id,
        data.patient_id,
        booking_id,
        question,
        history,
        data.urgency,
        times,
        data.consent.how,
        data.consent.witnessed_by,
        consent_at,
    )
    await connection.executemany(
        "INSERT INTO remote_consultation_attachments (consultation_id, attachment_id) "
        "VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(case_id, attachment) for attachment in dict.fromkeys(data.attachment_ids)],
    )
    await record_event(connection, case_id, None, "open", context)
    await audit.record(
        connection,
        context,
        "remote_consult.opened",
        SUBJECT,
        case_id,
        detail={
            "patient_id": str(data.patient_id),
            "urgency": data.urgency,
            "experts": [str(expert) for expert, _ in experts],
            "consent": {"how": data.consent.how, "at": consent_at.isoformat()},
            "attachments": len(data.attachment_ids),
        },
    )
    for expert_id, user_id in experts:
        invitation_id = await connection.fetchval(
            "INSERT INTO remote_consultation_invitations (consultation_id, expert_id) "
            "VALUES ($1, $2) RETURNING id",
            case_id,
            expert_id,
        )
        await record_event(connection, case_id, invitation_id, "invited", context)
        await notify(
            connection,
            user_id,
            "remote_consult.invited",
            {"case_id": case_id, "invitation_id": invitation_id, "urgency": data.urgency},
            dedupe_key=str(invitation_id),
            urgency="normal" if data.urgency == "routine" else "high",
        )
    return case_id
