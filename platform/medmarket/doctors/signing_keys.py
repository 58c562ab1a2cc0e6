"""Doctors' signing keys: each doctor signs with an Ed25519 key of their own, and anyone
verifies with its public half (``medmarket.signatures`` is the format, docs/signatures.md
the recipe).

- A key is made when a doctor is approved, in the transaction that approves them
  (``verification.settle``, and an operator's approval or reinstatement in ``decisions``);
  a doctor approved before keys existed gets one the first time they sign.
- A doctor has at most one live key. The partial unique index
  ``doctor_signing_keys_one_live`` decides between two first signatures at once: one
  insert wins, the other finds the winner's key.
- The private key is stored only sealed (``medmarket.sealed``) and is unsealed for a
  signature only; the database refuses a row whose private key is not sealed, or whose key
  id is not that of its public key, and lets the application add and retire keys only.
- Only an approved doctor signs. A suspended doctor keeps their key: what they signed
  stays verifiable, and verifying never looks at the doctor's standing.

What the prescription service calls, inside the transaction that stores the signed
prescription (the doctor's row stays share-locked until it ends, so no suspension commits
between the check and the store)::

    signed = await signing_keys.sign_for_doctor(
        connection, doctor_id, document, sealer=Sealer(settings.secret_key), context=context
    )
    ... store signatures.encode(signed) ...
    verdict = await signing_keys.verify_signed(connection, signed)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from medmarket import audit, signatures
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.doctors.schemas import DoctorSigningKeysOut, SigningKeyOut, VerificationOut
from medmarket.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from medmarket.sealed import Sealer, SealError
from medmarket.signatures import KeyPair, NotCanonical, SignedDocument

KEY_CREATED = "doctor.signing_key_created"
NO_SUCH_DOCTOR = "no such doctor"
# Doctors whose keys are public even before they have one: those who were approved.
_ONCE_APPROVED = ("approved", "suspended")


class DoctorCannotSign(Conflict):
    """Only an approved doctor signs; ``status_now`` says what the doctor is."""

    slug, title = "doctor-cannot-sign", "Only an approved doctor signs"

    def __init__(self, detail: str, *, status_now: str) -> None:
        super().__init__(detail, status_now=status_now)


class SigningKeyUnreadable(ServiceUnavailable):
    """The doctor's private key was sealed under another MEDMARKET_SECRET_KEY."""

    slug, title = "signing-key-unreadable", "The doctor's signing key cannot be opened"


@dataclass(frozen=True)
class DoctorSigningKey:
    """A doctor's key as anyone may see it: never its private half."""

    key_id: str
    doctor_id: uuid.UUID
    public_key: bytes
    created_at: dt.datetime
    retired_at: dt.datetime | None


_COLUMNS = "key_id, doctor_id, public_key, created_at, retired_at"


def _key(row: asyncpg.Record) -> DoctorSigningKey:
    return DoctorSigningKey(
        key_id=row["key_id"],
        doctor_id=row["doctor_id"],
        public_key=bytes(row["public_key"]),
        created_at=row["created_at"],
        retired_at=row["retired_at"],
    )


async def _live_key(connection: Connection, doctor_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        f"SELECT {_COLUMNS}, private_key_sealed FROM doctor_signing_keys "  # noqa: S608
        "WHERE doctor_id = $1 AND retired_at IS NULL",
        doctor_id,
    )
    return row


_STATUS = "SELECT status FROM doctors WHERE id = $1"
_STATUS_SHARED = "SELECT status FROM doctors WHERE id = $1 FOR SHARE"


async def _status(connection: Connection, doctor_id: uuid.UUID, *, lock: bool) -> str:
    status: str | None = await connection.fetchval(_STATUS_SHARED if lock else _STATUS, doctor_id)
    if status is None:
        raise NotFound(NO_SUCH_DOCTOR)
    return status


async def _live_or_new(
    connection: Connection,
    doctor_id: uuid.UUID,
    status: str,
    *,
    sealer: Sealer,
    context: AuditContext,
) -> asyncpg.Record:
    """The doctor's live key row, made first if they have none and are approved (their
    ``status`` as the caller just read it)."""
    row = await _live_key(connection, doctor_id)
    if row is not None:
        return row
    if status != "approved":
        raise DoctorCannotSign(
            f"the doctor is {status}; a signing key is made for an approved doctor only",
            status_now=status,
        )
    keys = signatures.generate_keypair()
    made = await connection.fetchrow(
        f"""
        INSERT INTO doctor_signing_keys (key_id, doctor_id, public_key, private_key_sealed)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (doctor_id) WHERE retired_at IS NULL DO NOTHING
        RETURNING {_COLUMNS}, private_key_sealed
        """,  # noqa: S608
        signatures.key_id(keys.public_key),
        doctor_id,
        keys.public_key,
        sealer.seal(signatures.b64url(keys.private_key)),
    )
    if made is None:  # another transaction made the doctor's key first, and committed
        row = await _live_key(connection, doctor_id)
        assert row is not None  # the live key that won the unique index
        return row
    await audit.record(
        connection,
        context,
        KEY_CREATED,
        "doctor",
        doctor_id,
        detail={"key_id": made["key_id"], "algorithm": signatures.ALGORITHM},
    )
    return made


async def signing_key_for(
    connection: Connection,
    doctor_id: uuid.UUID,
    *,
    sealer: Sealer,
    context: AuditContext,
) -> DoctorSigningKey:
    """The doctor's live key; made now (audited as ``doctor.signing_key_created``, in the
    caller's transaction) if the doctor is approved and has none. Safe when two callers
    make it at once: both get the one key. Raises NotFound for no such doctor, and
    DoctorCannotSign for a doctor who has no key and is not approved."""
    status = await _status(connection, doctor_id, lock=False)
    return _key(await _live_or_new(connection, doctor_id, status, sealer=sealer, context=context))


def _keys_of(row: asyncpg.Record, sealer: Sealer) -> KeyPair:
    try:
        private = sealer.unseal(row["private_key_sealed"])
    except SealError:
        raise SigningKeyUnreadable(
            "the doctor's signing key was sealed under another MEDMARKET_SECRET_KEY; "
            "restore the key it was sealed with"
        ) from None
    return KeyPair(
        private_key=signatures.from_b64url(private, signatures.KEY_BYTES, "private_key"),
        public_key=bytes(row["public_key"]),
    )


def _canonical(document: Mapping[str, Any]) -> bytes:
    try:
        return signatures.canonical_form(document)
    except NotCanonical as exc:
        raise InvalidInput(f"{exc.field}: {exc.message}", field=exc.field) from None


async def sign_for_doctor(
    connection: Connection,
    doctor_id: uuid.UUID,
    document: Mapping[str, Any],
    *,
    sealer: Sealer,
    context: AuditContext,
) -> SignedDocument:
    """``document`` signed with the doctor's key, in an envelope.

    Call it inside the transaction that stores the signed document: it share-locks the
    doctor's row, so the doctor cannot be suspended before that transaction ends. Makes
    the doctor's key if they have none yet (see ``signing_key_for``). Raises NotFound (no
    such doctor), DoctorCannotSign (409: not approved now), InvalidInput (422, the member
    named: the document has no canonical form, such as a float) and SigningKeyUnreadable
    (503: sealed under another secret key)."""
    _canonical(document)  # refused before any key is made for it
    status = await _status(connection, doctor_id, lock=True)
    if status != "approved":
        raise DoctorCannotSign(
            f"the doctor is {status}; only an approved doctor signs", status_now=status
        )
    row = await _live_or_new(connection, doctor_id, status, sealer=sealer, context=context)
    return signatures.signed(document, _keys_of(row, sealer))


async def verify_signed(db: Connection | asyncpg.Pool, envelope: SignedDocument) -> VerificationOut:
    """Whether the envelope is a document a doctor signed, and who; whatever the doctor's
    standing now. Raises InvalidInput (the field named) for a document without a canonical
    form or a signature that is not base64url of 64 bytes."""
    canonical = _canonical(envelope.document)
    try:
        signature = envelope.signature_bytes()
    except NotCanonical as exc:
        raise InvalidInput(f"{exc.field}: {exc.message}", field=exc.field) from None
    row = await db.fetchrow(
        """
        SELECT k.key_id, k.doctor_id, k.public_key, k.created_at, k.retired_at, d.full_name
          FROM doctor_signing_keys k JOIN doctors d ON d.id = k.doctor_id
         WHERE k.key_id = $1
        """,
        envelope.key_id,
    )
    if row is None:
        return VerificationOut(
            valid=False,
            key_id=envelope.key_id,
            reason="unknown-key",
            detail="no doctor's signing key has this key id",
        )
    if not signatures.verify_canonical(canonical, signature, bytes(row["public_key"])):
        return VerificationOut(
            valid=False,
            key_id=envelope.key_id,
            reason="bad-signature",
            detail="the signature does not sign this document with this key: one of them "
            "changed since it was signed",
        )
    return VerificationOut(
        valid=True,
        key_id=envelope.key_id,
        doctor_id=row["doctor_id"],
        doctor_name=row["full_name"],
        key_created_at=row["created_at"],
        key_retired_at=row["retired_at"],
    )


def key_out(key: DoctorSigningKey) -> SigningKeyOut:
    return SigningKeyOut(
        key_id=key.key_id,
        algorithm=signatures.ALGORITHM,
        public_key=signatures.b64url(key.public_key),
        public_key_pem=signatures.public_key_pem(key.public_key),
        created_at=key.created_at,
        retired_at=key.retired_at,
    )


async def public_keys(db: Connection | asyncpg.Pool, doctor_id: uuid.UUID) -> DoctorSigningKeysOut:
    """Every key the doctor ever had, oldest first: public, for anyone. A doctor who was
    never approved is no signer, and as unknown as a doctor who does not exist."""
    doctor = await db.fetchrow("SELECT full_name, status FROM doctors WHERE id = $1", doctor_id)
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM doctor_signing_keys WHERE doctor_id = $1 "  # noqa: S608
        "ORDER BY created_at, key_id",
        doctor_id,
    )
    if doctor is None or not (rows or doctor["status"] in _ONCE_APPROVED):
        raise NotFound(NO_SUCH_DOCTOR)
    return DoctorSigningKeysOut(
        doctor_id=doctor_id,
        doctor_name=doctor["full_name"],
        keys=[key_out(_key(row)) for row in rows],
    )
