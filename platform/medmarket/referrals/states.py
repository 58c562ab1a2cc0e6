"""A referral's state machine and the one function that moves a referral through it.

The trigger of migration 0090 refuses any other move, so this table and that trigger must
agree (a test compares them). Each move records its audit event and a line of the
referral's timeline (``referral_events``) in the caller's transaction.

    draft ──► awaiting_consent ──► pending ──► received ──► accepted ──► seen ──► admitted
      │            │    │            │  │         │  │         │  │        │ │       │
      ▼            ▼    ▼            ▼  ▼         ▼  ▼         ▼  ▼        ▼ ▼       ▼
  cancelled    declined cancelled  refused    refused    no_show │   discharged /
                                   cancelled  cancelled  cancelled   referred_back (下转)
"""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.errors import Conflict

ReferralStatus = Literal[
    "draft",
    "awaiting_consent",
    "declined",
    "pending",
    "received",
    "accepted",
    "refused",
    "cancelled",
    "seen",
    "admitted",
    "discharged",
    "referred_back",
    "no_show",
]
Source = Literal["platform", "doctor", "patient", "hospital_admin", "hospital_system"]
SUBJECT = "referral"

TRANSITIONS: dict[tuple[ReferralStatus, ReferralStatus], str] = {
    ("draft", "awaiting_consent"): "referral.submitted",
    ("draft", "cancelled"): "referral.cancelled",
    ("awaiting_consent", "pending"): "referral.consented",
    ("awaiting_consent", "declined"): "referral.declined",
    ("awaiting_consent", "cancelled"): "referral.cancelled",
    ("pending", "received"): "referral.received",
    ("pending", "accepted"): "referral.accepted",
    ("pending", "refused"): "referral.refused",
    ("pending", "cancelled"): "referral.cancelled",
    ("received", "accepted"): "referral.accepted",
    ("received", "refused"): "referral.refused",
    ("received", "cancelled"): "referral.cancelled",
    ("accepted", "seen"): "referral.seen",
    ("accepted", "admitted"): "referral.admitted",
    ("accepted", "discharged"): "referral.discharged",
    ("accepted", "referred_back"): "referral.referred_back",
    ("accepted", "no_show"): "referral.no_show",
    ("accepted", "cancelled"): "referral.cancelled",
    ("seen", "admitted"): "referral.admitted",
    ("seen", "discharged"): "referral.discharged",
    ("seen", "referred_back"): "referral.referred_back",
    ("admitted", "discharged"): "referral.discharged",
    ("admitted", "referred_back"): "referral.referred_back",
}
# A live referral holds its visit (the unique index of migration 0090): no second one.
LIVE: frozenset[str] = frozenset({"draft", "awaiting_consent", "pending", "received", "accepted"})
# The hospital was (or is being) asked: cancelling tells it.
AT_HOSPITAL: frozenset[str] = frozenset({"pending", "received", "accepted"})
# What the hospital reports after accepting, in the order it happens.
OUTCOMES: tuple[ReferralStatus, ...] = (
    "seen",
    "admitted",
    "discharged",
    "referred_back",
    "no_show",
)


class WrongReferralStatus(Conflict):
    """The referral's status does not allow this; ``status_now`` says what it is."""

    slug, title = "wrong-referral-status", "The referral's status does not allow this"

    def __init__(self, detail: str, *, status_now: str, **extra: Any) -> None:
        super().__init__(
            detail, field="status", code="wrong-status", status_now=status_now, **extra
        )


def can_move(current: str, target: str) -> bool:
    return (current, target) in TRANSITIONS


async def move(
    connection: Connection,
    referral: asyncpg.Record,
    target: ReferralStatus,
    context: AuditContext,
    source: Source,
    *,
    note: str = "",
    at: Any = None,
    event_key: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Move ``referral`` (a row the caller locked with FOR UPDATE) to ``target``, with its
    audit event and timeline line. Raises WrongReferralStatus when the move is not allowed.
    Columns that come with the move (the appointment, the refusal) the caller sets first."""
    current = referral["status"]
    action = TRANSITIONS.get((current, target))
    if action is None:
        raise WrongReferralStatus(
            f"the referral is {current}; it cannot become {target}", status_now=current
        )
    updated = await connection.execute(
        "UPDATE referrals SET status = $3, status_changed_at = now() WHERE id = $1 AND status = $2",
        referral["id"],
        current,
        target,
    )
    if updated != "UPDATE 1":  # the caller did not hold the lock; never move blindly
        raise Conflict("the referral changed meanwhile; reload it", code="changed")
    await record_event(
        connection, referral["id"], target, context, source, note=note, at=at, event_key=event_key
    )
    await audit.record(
        connection,
        context,
        action,
        SUBJECT,
        referral["id"],
        detail={
            "from": current,
            "to": target,
            **({"note": note} if note else {}),
            **(detail or {}),
        },
    )


async def record_event(
    connection: Connection,
    referral_id: Any,
    status: str,
    context: AuditContext,
    source: Source,
    *,
    note: str = "",
    at: Any = None,
    event_key: str | None = None,
) -> bool:
    """A line of the referral's timeline; False when ``event_key`` was recorded before."""
    inserted = await connection.fetchval(
        """
        INSERT INTO referral_events (referral_id, status, at, actor_id, source, note, event_key)
        VALUES ($1, $2, coalesce($3, now()), $4, $5, $6, $7)
        ON CONFLICT (referral_id, event_key) DO NOTHING
        RETURNING id
        """,
        referral_id,
        status,
        at,
        context.actor_id,
        source,
        note[:2000],
        event_key,
    )
    return inserted is not None
