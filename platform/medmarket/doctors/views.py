"""How a doctor's application reads: its documents, its latest checks with the hospital's
evidence, its history, and what the viewer may do next, in the viewer's language."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from medmarket.accounts.service import Principal
from medmarket.db import Connection, fetch_one
from medmarket.doctors import messages
from medmarket.doctors.schemas import (
    Action,
    CheckOut,
    CheckOutcome,
    CheckRunOut,
    DoctorOut,
    DocumentOut,
    HospitalRef,
    StatusChangeOut,
)

# What each role may do in each status; the service enforces the same rules.
_ACTIONS: dict[str, dict[str, list[Action]]] = {
    "doctor": {
        "draft": ["edit", "upload", "submit"],
        "needs_review": ["upload"],
        "rejected": ["revise"],
    },
    "operator": {
        "needs_review": ["approve", "reject", "recheck"],
        "approved": ["suspend", "end_affiliation"],
        "suspended": ["reinstate"],
    },
    "hospital_admin": {"approved": ["end_affiliation"]},
}


def actions_for(role: str, status: str, *, a_check_failed: bool = False) -> list[Action]:
    """What ``role`` may do now; approval is not offered against a failed check."""
    actions = list(_ACTIONS.get(role, {}).get(status, []))
    return [a for a in actions if not (a == "approve" and a_check_failed)]


def document_url(doctor_id: uuid.UUID, document_id: uuid.UUID) -> str:
    return f"/api/onboarding/doctors/{doctor_id}/documents/{document_id}"


def document_out(row: asyncpg.Record) -> DocumentOut:
    return DocumentOut(
        id=row["id"],
        kind=row["kind"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        original_name=row["original_name"],
        uploaded_at=row["uploaded_at"],
        url=document_url(row["doctor_id"], row["id"]),
    )


def _run_outcome(outcomes: set[str]) -> CheckOutcome:
    if outcomes == {"passed"}:
        return "passed"
    return "failed" if "failed" in outcomes else "inconclusive"


def check_runs_out(rows: Sequence[asyncpg.Record], locale: str) -> list[CheckRunOut]:
    """Rows of doctor_checks (any order) grouped into runs, the newest run first."""
    runs: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for row in sorted(rows, key=lambda r: r["id"], reverse=True):
        runs.setdefault(row["run_id"], []).append(row)
    return [
        CheckRunOut(
            run_id=run_id,
            purpose=checks[0]["purpose"],
            outcome=_run_outcome({check["outcome"] for check in checks}),
            checked_at=checks[0]["checked_at"],
            checks=[
                CheckOut(
                    kind=check["kind"],
                    outcome=check["outcome"],
                    code=check["code"],
                    message=messages.render(check["code"], check["params"], locale),
                    params=check["params"],
                    evidence=check["evidence"],
                    checked_at=check["checked_at"],
                )
                for check in reversed(checks)
            ],
        )
        for run_id, checks in runs.items()
    ]


def history_out(rows: Sequence[asyncpg.Record], locale: str) -> list[StatusChangeOut]:
    return [
        StatusChangeOut(
            id=row["id"],
            from_status=row["from_status"],
            to_status=row["to_status"],
            reason_code=row["reason_code"],
            reason=row["reason"] or messages.render(row["reason_code"], row["params"], locale),
            actor_role=row["actor_role"],
            occurred_at=row["occurred_at"],
        )
        for row in rows
    ]


async def doctor_out(
    connection: Connection | asyncpg.Pool, doctor: asyncpg.Record, principal: Principal
) -> DoctorOut:
    locale = principal.locale
    hospital = await fetch_one(
        connection, "SELECT id, name, level FROM hospitals WHERE id = $1", doctor["hospital_id"]
    )
    documents = await connection.fetch(
        "SELECT * FROM doctor_documents WHERE doctor_id = $1 ORDER BY uploaded_at, id",
        doctor["id"],
    )
    latest = await connection.fetch(
        """
        SELECT * FROM doctor_checks
         WHERE run_id = (SELECT run_id FROM doctor_checks WHERE doctor_id = $1
                          ORDER BY id DESC LIMIT 1)
        """,
        doctor["id"],
    )
    history = await connection.fetch(
        "SELECT * FROM doctor_status_changes WHERE doctor_id = $1 ORDER BY id", doctor["id"]
    )
    runs = check_runs_out(latest, locale)
    reason = doctor["status_reason"]
    if reason is None and doctor["status_reason_code"]:
        last_params = history[-1]["params"] if history else {}
        reason = messages.render(doctor["status_reason_code"], last_params, locale)
    return DoctorOut(
        id=doctor["id"],
        user_id=doctor["user_id"],
        hospital=HospitalRef(**dict(hospital)),
        full_name=doctor["full_name"],
        licence_number=doctor["licence_number"],
        title=doctor["title"],
        department=doctor["department"],
        specialties=list(doctor["specialties"]),
        languages=list(doctor["languages"]),
        bio=doctor["bio"],
        time_zone=doctor["time_zone"],
        status=doctor["status"],
        status_reason_code=doctor["status_reason_code"],
        status_reason=reason,
        practice_started_on=doctor["practice_started_on"],
        licence_expires_on=doctor["licence_expires_on"],
        affiliation_ends_on=doctor["affiliation_ends_on"],
        submitted_at=doctor["submitted_at"],
        decided_at=doctor["decided_at"],
        verified_at=doctor["verified_at"],
        created_at=doctor["created_at"],
        updated_at=doctor["updated_at"],
        documents=[document_out(row) for row in documents],
        latest_checks=runs[0] if runs else None,
        history=history_out(history, locale),
        actions=actions_for(
            principal.role,
            doctor["status"],
            a_check_failed=bool(runs) and runs[0].outcome == "failed",
        ),
    )
