"""The prescriptions' SQL: storing one as issued (its rows and its canonical document, in
the caller's transaction) and reading them back as the API shows them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import asyncpg

from medmarket import signatures
from medmarket.db import Connection
from medmarket.errors import NotFound
from medmarket.prescriptions.document import PrescriptionDocument, read_document
from medmarket.prescriptions.schemas import PrescriptionOut, PrescriptionSignature
from medmarket.prescriptions.states import standing
from medmarket.signatures import SignedDocument

NOT_FOUND = "no such prescription"

# The state of a prescription beside its document; replaced_by: the version correcting it.
SELECT = """
    SELECT p.id, p.consultation_id, p.lineage_id, p.version, p.status, p.status_changed_at,
           p.expires_at, p.voided_at, p.void_reason, p.document, p.document_sha256,
           p.signature, p.signing_key_id,
           (SELECT n.id FROM prescriptions n WHERE n.supersedes = p.id) AS replaced_by
      FROM prescriptions p
"""


def prescription_out(row: asyncpg.Record, now: dt.datetime) -> PrescriptionOut:
    """A prescription as the API shows it: its content read from the canonical document
    (what was issued), its state from the row."""
    content = read_document(row["document"])
    return PrescriptionOut(
        id=content.id,
        consultation_id=content.consultation_id,
        version=content.version,
        supersedes=content.supersedes,
        replaced_by=row["replaced_by"],
        status=row["status"],
        standing=standing(row["status"], row["expires_at"], row["replaced_by"], now),
        status_changed_at=row["status_changed_at"],
        written_at=content.written_at,
        valid_from=content.valid_from,
        valid_until=content.valid_until,
        expires_at=content.expires_at,
        doctor=content.doctor,
        patient=content.patient,
        diagnosis=content.diagnosis,
        chronic_follow_up=content.chronic_follow_up,
        items=content.items,
        findings=content.findings,
        voided_at=row["voided_at"],
        void_reason=row["void_reason"],
        document_sha256=bytes(row["document_sha256"]).hex(),
        signature=signature_out(row),
    )


def signature_out(row: asyncpg.Record) -> PrescriptionSignature | None:
    if row["signature"] is None:
        return None  # issued before prescriptions were signed (development databases)
    return PrescriptionSignature(
        key_id=row["signing_key_id"], signature=signatures.b64url(bytes(row["signature"]))
    )


def signed_document(row: asyncpg.Record) -> SignedDocument | None:
    """The prescription as its doctor signed it: an envelope anyone can verify (POST
    /api/signatures/verify, ``medmarket verify-signature``, or any Ed25519 library)."""
    signature = signature_out(row)
    if signature is None:
        return None
    return SignedDocument(
        document=json.loads(row["document"]),
        signature=signature.signature,
        key_id=signature.key_id,
        algorithm=signature.algorithm,
        canonicalization=signature.canonicalization,
    )


async def fetch_one(
    connection: Connection | asyncpg.Pool, prescription_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record:
    row = await connection.fetchrow(
        SELECT + " WHERE p.id = $1" + (" FOR UPDATE OF p" if lock else ""), prescription_id
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


async def of_consultation(
    connection: Connection | asyncpg.Pool, consultation_id: uuid.UUID
) -> list[asyncpg.Record]:
    """Oldest first: each line's versions in order."""
    return list(
        await connection.fetch(
            SELECT + " WHERE p.consultation_id = $1 ORDER BY p.written_at, p.version, p.id",
            consultation_id,
        )
    )


async def store(
    connection: Connection,
    content: PrescriptionDocument,
    document: bytes,
    signed: SignedDocument,
    *,
    lineage_id: uuid.UUID,
    patient_id: uuid.UUID,
) -> None:
    """Store an issued prescription: its row (with ``document``, the canonical bytes of
    ``content``, and the doctor's signature of them), its items and its findings, as
    ``content`` has them."""
    await connection.execute(
        """
        INSERT INTO prescriptions (id, consultation_id, doctor_id, patient_id, lineage_id,
                                   version, supersedes, diagnosis, chronic_follow_up,
                                   written_at, valid_from, valid_until, expires_at,
                                   status_changed_at, document, signature, signing_key_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $10, $14, $15, $16)
        """,
        content.id,
        content.consultation_id,
        content.doctor.id,
        patient_id,
        lineage_id,
        content.version,
        content.supersedes,
        content.diagnosis,
        content.chronic_follow_up,
        content.written_at,
        content.valid_from,
        content.valid_until,
        content.expires_at,
        document,
        signed.signature_bytes(),
        signed.key_id,
    )
    await connection.executemany(
        """
        INSERT INTO prescription_items (prescription_id, position, drug_id, dose, dose_unit,
                                        route, frequency, duration_days, quantity,
                                        quantity_unit, instructions)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        """,
        [
            (
                content.id,
                position,
                item.drug.id,
                Decimal(item.dose),
                item.dose_unit,
                item.route,
                item.frequency,
                item.duration_days,
                Decimal(item.quantity),
                item.quantity_unit,
                item.instructions,
            )
            for position, item in enumerate(content.items)
        ],
    )
    await connection.executemany(
        """
        INSERT INTO prescription_findings (prescription_id, position, rule, severity,
                                           message_zh, message_en, item, field, reason)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        [
            (
                content.id,
                position,
                finding.rule,
                finding.severity,
                finding.message_zh,
                finding.message_en,
                finding.item,
                finding.field,
                finding.reason,
            )
            for position, finding in enumerate(content.findings)
        ],
    )


async def atc_codes(
    connection: asyncpg.Connection | asyncpg.Pool, drug_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The catalog's ATC code of each drug (the document names drugs by id and name; the
    code is the catalog's, which keeps every drug a prescription ever named)."""
    rows = await connection.fetch(
        "SELECT id, atc_code FROM drugs WHERE id = ANY($1::uuid[])", drug_ids
    )
    return {row["id"]: row["atc_code"] for row in rows}
