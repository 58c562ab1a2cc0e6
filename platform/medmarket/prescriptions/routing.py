"""Routing an issued prescription to the pharmacy that reviews it (审方), in the issuing
transaction.

The rule: the prescribing doctor's partner hospital's own pharmacy if one is open, reviews
prescriptions and has a pharmacist working in it; else an open independent pharmacy that
reviews and has a pharmacist. Among several, the one with the fewest prescriptions awaiting
review, then the oldest, then by id: the same question always has the same answer. A
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

_REVIEWING_PHARMACY = """
    SELECT p.id, p.kind
      FROM pharmacies p
     WHERE p.closed_at IS NULL AND p.reviews_prescriptions
       AND (p.kind = 'independent' OR p.hospital_id = $1)
       AND EXISTS (SELECT 1 FROM pharmacy_pharmacists m
                    WHERE m.pharmacy_id = p.id AND m.left_at IS NULL)
     ORDER BY (p.kind = 'hospital') DESC,
              (SELECT count(*) FROM prescription_reviews r
                 JOIN prescriptions x ON x.id = r.prescription_id
                WHERE r.pharmacy_id = p.id AND r.decision IS NULL AND x.status = 'issued'),
              p.created_at, p.id
     LIMIT 1
"""


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
    were issued (a worker job); how many were routed."""
    routed = 0
    async with services.db.transaction() as connection:
        waiting = await connection.fetch(
            """
            SELECT p.id, p.consultation_id, d.hospital_id
              FROM prescriptions p JOIN doctors d ON d.id = p.doctor_id
             WHERE p.status = 'issued' AND p.expires_at > now()
               AND NOT EXISTS (SELECT 1 FROM prescription_reviews r
                                WHERE r.prescription_id = p.id)
             ORDER BY p.written_at
             LIMIT 100
               FOR UPDATE OF p SKIP LOCKED
            """
        )
        for row in waiting:
            pharmacy = await connection.fetchrow(_REVIEWING_PHARMACY, row["hospital_id"])
            if pharmacy is None:
                break
            await connection.execute(
                "INSERT INTO prescription_reviews (prescription_id, pharmacy_id) VALUES ($1, $2)",
                row["id"],
                pharmacy["id"],
            )
            await audit.record(
                connection,
                SYSTEM,
                "prescription.routed",
                "prescription",
                row["id"],
                consultation_id=row["consultation_id"],
                detail={"pharmacy_id": str(pharmacy["id"]), "kind": pharmacy["kind"]},
            )
            routed += 1
    return routed
