"""Every prescription is signed by its doctor when it is issued: the doctor's Ed25519 key over
the RFC 8785 canonical form of exactly the document stored, verifiable by anyone with the
doctor's public key, and no byte of it can change unnoticed."""

from __future__ import annotations

import base64
import json
import uuid
from types import SimpleNamespace

import asyncpg
import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from litestar import Litestar

from medmarket.prescriptions.tests.helpers import call, ok, prescribe, visit_in_progress

# Verification needs no account: a pharmacy or the regulator checks with what is public.
ANYONE = SimpleNamespace(headers={})


def _raw(b64url: str) -> bytes:
    return base64.urlsafe_b64decode(b64url + "=" * (-len(b64url) % 4))


async def test_an_issued_prescription_verifies_with_the_doctors_published_key(
    app: Litestar,
) -> None:
    visit = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    envelope = await ok(app, "GET", f"/api/prescriptions/{issued['id']}/signed", visit.patient)
    assert envelope["key_id"] == issued["signature"]["key_id"]
    assert envelope["signature"] == issued["signature"]["signature"]
    assert (envelope["algorithm"], envelope["canonicalization"]) == ("Ed25519", "RFC8785")
    assert envelope["document"]["id"] == issued["id"]
    assert envelope["document"]["doctor"]["id"] == visit.doctor.id

    # As a pharmacy would check it, with nothing of ours: the published key, RFC 8785 and
    # any Ed25519 implementation.
    keys = await ok(app, "GET", f"/api/doctors/{visit.doctor.id}/signing-keys", ANYONE)
    [key] = [k for k in keys["keys"] if k["key_id"] == envelope["key_id"]]
    public_key = Ed25519PublicKey.from_public_bytes(_raw(key["public_key"]))
    canonical = rfc8785.dumps(envelope["document"])
    public_key.verify(_raw(envelope["signature"]), canonical)
    assert canonical == rfc8785.dumps(json.loads(canonical))

    verdict = await ok(app, "POST", "/api/signatures/verify", ANYONE, envelope)
    assert verdict["valid"] is True and verdict["doctor_id"] == visit.doctor.id


async def test_one_changed_value_in_a_signed_prescription_fails_verification(
    app: Litestar,
) -> None:
    visit = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    envelope = await ok(app, "GET", f"/api/prescriptions/{issued['id']}/signed", visit.doctor)
    canonical = rfc8785.dumps(envelope["document"])
    keys = await ok(app, "GET", f"/api/doctors/{visit.doctor.id}/signing-keys", ANYONE)
    public_key = Ed25519PublicKey.from_public_bytes(_raw(keys["keys"][-1]["public_key"]))

    tampered = json.loads(json.dumps(envelope))
    tampered["document"]["items"][0]["quantity"] = "70"
    verdict = await ok(app, "POST", "/api/signatures/verify", ANYONE, tampered)
    assert (verdict["valid"], verdict["reason"]) == (False, "bad-signature")

    # Any one byte of the signed form changed: the signature no longer holds.
    for position in (0, len(canonical) // 2, len(canonical) - 1):
        changed = bytearray(canonical)
        changed[position] ^= 0x01
        with pytest.raises(InvalidSignature):
            public_key.verify(_raw(envelope["signature"]), bytes(changed))


async def test_the_stored_document_is_what_was_signed_and_never_changes(
    app: Litestar, database_url: str
) -> None:
    visit = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    envelope = await ok(app, "GET", f"/api/prescriptions/{issued['id']}/signed", visit.patient)
    row = await app.state.services.db.pool.fetchrow(
        "SELECT document, signature, signing_key_id FROM prescriptions WHERE id = $1",
        uuid.UUID(issued["id"]),
    )
    assert bytes(row["document"]) == rfc8785.dumps(envelope["document"])
    assert bytes(row["signature"]) == _raw(envelope["signature"])
    assert row["signing_key_id"] == envelope["key_id"]

    # Not even the owner replaces the signature, or issues one unsigned.
    owner = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.CheckViolationError, match="content never changes"):
            await owner.execute(
                "UPDATE prescriptions SET signature = $2 WHERE id = $1",
                uuid.UUID(issued["id"]),
                bytes(64),
            )
        with pytest.raises(asyncpg.CheckViolationError, match="prescriptions_signed"):
            await owner.execute(
                """
                INSERT INTO prescriptions (id, consultation_id, doctor_id, patient_id,
                    lineage_id, version, diagnosis, chronic_follow_up, valid_from,
                    valid_until, expires_at, document)
                SELECT $2, consultation_id, doctor_id, patient_id, $2, 1, diagnosis,
                       chronic_follow_up, valid_from, valid_until, expires_at, document
                  FROM prescriptions WHERE id = $1
                """,
                uuid.UUID(issued["id"]),
                uuid.uuid4(),
            )
    finally:
        await owner.close()


async def test_only_who_may_read_a_prescription_gets_its_signed_form(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    other = await visit_in_progress(app)
    issued = await prescribe(app, visit)
    answer = await call(app, "GET", f"/api/prescriptions/{issued['id']}/signed", other.patient)
    assert answer.status_code == 404
    answer = await call(app, "GET", f"/api/prescriptions/{issued['id']}/signed", other.doctor)
    assert answer.status_code == 404
