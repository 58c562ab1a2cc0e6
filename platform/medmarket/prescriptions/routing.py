"""Routing an issued prescription to the pharmacy that reviews it (审方), in the issuing
transaction.

The rule: the prescribing doctor's partner hospital's own pharmacy if one is open, reviews
prescriptions and has a pharmacist working in it; else an open independent pharmacy that
reviews and has a pharmacist. Among several, the one with the fewest prescriptions awaiting
review, then the oldest, then by id: the same question always has the same answer (the SQL
function ``reviewing_pharmacy``, migration 0073). A
correction (a new version) is routed afresh, like any new prescription.

No such pharmacy at all: the prescription stays issued with no review row (nothing can
approve it), the audit trail says ``prescription.unrouted``, and ``route_unrouted`` (a worker
job) routes it as soon as a reviewing pharmacy exists, while it is still valid.
"""

from __future__ import annotations

import uuid

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.audit.service import SYSTEM
from medmarket.db import Connection
from medmarket.services import Services

# The rule itself is the SQL function reviewing_pharmacy (migration 0073).
_REVIEWING_PHARMACY = "SELECT p.id, p.kind FROM pharmacies p WHERE p.id = reviewing_pharmacy($1)"
# Issued, still valid, never routed, and some pharmacy could review it now.
_UNROUTED = """
    SELECT x.id, x.consultation_id, d.hospital_id
      FROM prescriptions x JOIN doctors d ON d.id = x.doctor_id
     WHERE x.status = 'issued' AND x.expires_at > now()
       AND NOT EXISTS (SELECT 1 FROM prescription_reviews r WHERE r.prescription_id = x.id)
       AND reviewing_pharmacy(d.hospital_id) IS NOT NULL
     ORDER BY x.written_at
     LIMIT $1
       FOR UPDATE OF x SKIP LOCKED
"""
BATCH = 100


async def route(
    connection: Connection,
    prescription_id: uuid.UUID,
    hospital_id: uuid.UUID,
    consultation_id: uuid.UUID,
    context: AuditContext,
) -> uuid.UUID | None:
    """Route the just-issued prescription (in the caller's transaction); the pharmacy's id,
    or None when no pharmacy reviews prescriptions now."""
    pharmacy = await connection.fetchrow(_REVIEWING_PHARMACY, hospital_id)
    if pharmacy is None:
        await audit.record(
            connection,
            context,
            "prescription.unrouted",
            "prescription",
            prescription_id,
            consultation_id=consultation_id,
            detail={"reason": "no open pharmacy reviews prescriptions"},
        )
        return None
    await connection.execute(
        "INSERT INTO prescription_reviews (prescription_id, pharmacy_id) VALUES ($1, $2)",
        prescription_id,
        pharmacy["id"],
    )
    await audit.record(
        connection,
        context,
        "prescription.routed",
        "prescription",
        prescription_id,
        consultation_id=consultation_id,
        detail={"pharmacy_id": str(pharmacy["id"]), "kind": pharmacy["kind"]},
    )
    routed: uuid.UUID = pharmacy["id"]
    return routed


async def route_unrouted(services: Services) -> int:
    """Route the issued, still valid prescriptions that found no reviewing pharmacy when they
    were issued and could be routed now (a worker job); how many were routed."""
    routed = 0
    while True:
        async with services.db.transaction() as connection:
            waiting = await connection.fetch(_UNROUTED, BATCH)
            for row in waiting:
                await route(
                    connection, row["id"], row["hospital_id"], row["consultation_id"], SYSTEM
                )
        routed += len(waiting)
        if len(waiting) < BATCH:
            return routed
