"""Doctors' signing keys: made as a doctor is approved (by the checks, by an operator), or at
first use for a doctor approved before keys existed, one per doctor however many ask at
once; kept sealed; kept after a suspension, when only signing stops."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar

from medmarket import signatures
from medmarket.audit.service import SYSTEM
from medmarket.db import Database
from medmarket.doctors import signing_keys
from medmarket.doctors.signing_keys import DoctorCannotSign, SigningKeyUnreadable
from medmarket.doctors.tests.helpers import audit_actions
from medmarket.doctors.tests.test_decisions import decide, in_review
from medmarket.errors import InvalidInput, NotFound
from medmarket.sealed import Sealer
from medmarket.tests.support.factories import (
    approved_doctor,
    draft_doctor,
    hospital_with_demo_adapter,
)
from medmarket.tests.support.fixtures import Account
from medmarket.tests.support.payments import new_doctor, new_hospital

PRESCRIPTION = {"drug": "阿莫西林胶囊", "dose": "0.5", "times_a_day": 3}


def sealer_of(app: Litestar) -> Sealer:
    return Sealer(app.state.settings.secret_key)


async def key_rows(app: Litestar, doctor_id: str | uuid.UUID) -> list[asyncpg.Record]:
    db: Database = app.state.services.db
    return await db.fetch(
        "SELECT * FROM doctor_signing_keys WHERE doctor_id = $1 ORDER BY created_at",
        uuid.UUID(str(doctor_id)),
    )


async def approved_before_keys(app: Litestar, sign_up: Any) -> uuid.UUID:
    """A doctor approved before signing keys existed: approved, and no key."""
    account: Account = await sign_up("doctor")
    return await new_doctor(app, account.id, await new_hospital(app))


async def sign(app: Litestar, doctor_id: str | uuid.UUID, document: Any = PRESCRIPTION) -> Any:
    async with app.state.services.db.transaction() as connection:
        return await signing_keys.sign_for_doctor(
            connection, uuid.UUID(str(doctor_id)), document, sealer=sealer_of(app), context=SYSTEM
        )


async def test_a_doctor_approved_by_the_checks_has_a_key_made_as_they_were_approved(
    app: Litestar,
) -> None:
    doctor = await approved_doctor(app)
    [key] = await key_rows(app, doctor.doctor_id)
    decided_at = await app.state.services.db.fetchval(
        "SELECT decided_at FROM doctors WHERE id = $1::uuid", doctor.doctor_id
    )
    assert key["created_at"] == decided_at  # now() of one transaction
    assert key["retired_at"] is None
    assert key["key_id"] == signatures.key_id(bytes(key["public_key"]))
    actions = await audit_actions(app, doctor.doctor_id)
    assert actions[actions.index("doctor.approved") + 1] == signing_keys.KEY_CREATED
    detail = await app.state.services.db.fetchval(
        "SELECT detail FROM audit_events WHERE action = $1 AND subject_id = $2",
        signing_keys.KEY_CREATED,
        doctor.doctor_id,
    )
    assert detail == {"key_id": key["key_id"], "algorithm": "Ed25519"}


async def test_a_doctor_approved_by_an_operator_has_a_key_made_as_they_were_approved(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    _, doctor = await in_review(app, practice_started_on=None)
    assert await key_rows(app, doctor.doctor_id) == []  # waiting for review: no key
    approved = await decide(client, operator, doctor, "approve")
    assert approved.status_code == 200, approved.text
    [key] = await key_rows(app, doctor.doctor_id)
    assert key["created_at"] == await app.state.services.db.fetchval(
        "SELECT decided_at FROM doctors WHERE id = $1::uuid", doctor.doctor_id
    )
    creation = await app.state.services.db.fetchrow(
        "SELECT actor_id, actor_role FROM audit_events WHERE action = $1 AND subject_id = $2",
        signing_keys.KEY_CREATED,
        doctor.doctor_id,
    )
    assert (str(creation["actor_id"]), creation["actor_role"]) == (operator.id, "operator")


async def test_the_private_key_is_stored_only_sealed(app: Litestar) -> None:
    doctor = await approved_doctor(app)
    [row] = await key_rows(app, doctor.doctor_id)
    assert row["private_key_sealed"].startswith("sealed:v1:")
    private = base64.urlsafe_b64decode(sealer_of(app).unseal(row["private_key_sealed"]) + "=")
    # It is the public key's private half ...
    assert Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw() == bytes(
        row["public_key"]
    )
    # ... and no spelling of it is in the row, nor in the audit trail.
    spellings = [
        private.hex(),
        signatures.b64url(private),
        base64.b64encode(private).decode().rstrip("="),
    ]
    stored = repr(dict(row)) + repr(
        [bytes(value) for value in row.values() if isinstance(value, bytes)]
    )
    trail = repr(
        await app.state.services.db.fetch(
            "SELECT detail FROM audit_events WHERE subject_id = $1", doctor.doctor_id
        )
    )
    for spelling in spellings:
        assert spelling not in stored
        assert spelling not in trail
    assert private not in b"".join(v for v in row.values() if isinstance(v, bytes))


async def test_the_database_refuses_an_unsealed_private_key_or_a_wrong_key_id(
    app: Litestar, sign_up: Any
) -> None:
    doctor_id = await approved_before_keys(app, sign_up)
    keys = signatures.generate_keypair()
    insert = (
        "INSERT INTO doctor_signing_keys (key_id, doctor_id, public_key, private_key_sealed) "
        "VALUES ($1, $2, $3, $4)"
    )
    db = app.state.services.db
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            insert,
            signatures.key_id(keys.public_key),
            doctor_id,
            keys.public_key,
            signatures.b64url(keys.private_key),
        )
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(insert, "A" * 22, doctor_id, keys.public_key, sealer_of(app).seal("x"))


async def test_a_doctor_approved_before_keys_existed_gets_one_at_first_signature(
    app: Litestar, sign_up: Any
) -> None:
    doctor_id = await approved_before_keys(app, sign_up)
    assert await key_rows(app, doctor_id) == []
    signed = await sign(app, doctor_id)
    [key] = await key_rows(app, doctor_id)
    assert signed.key_id == key["key_id"]
    assert signatures.verify_envelope(signed, bytes(key["public_key"]))
    assert signing_keys.KEY_CREATED in await audit_actions(app, str(doctor_id))
    again = await sign(app, doctor_id, {"another": "document"})
    assert again.key_id == key["key_id"]
    assert len(await key_rows(app, doctor_id)) == 1


async def test_two_first_signatures_at_once_make_one_key(
    app: Litestar, sign_up: Any, database_url: str
) -> None:
    """The unique index decides: the second insert waits for the first transaction, then
    finds its key."""
    doctor_id = await approved_before_keys(app, sign_up)
    db = app.state.services.db
    owner = await asyncpg.connect(database_url)  # sees every session's wait events
    first_made = asyncio.Event()
    second_pid: list[int] = []

    async def first() -> signatures.SignedDocument:
        async with db.transaction() as connection:
            signed = await signing_keys.sign_for_doctor(
                connection, doctor_id, PRESCRIPTION, sealer=sealer_of(app), context=SYSTEM
            )
            first_made.set()
            # Commit only once the second is waiting on this insert.
            for _ in range(200):
                if second_pid and await owner.fetchval(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1",
                    second_pid[0],
                ):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the second signature never waited for the first")
            return signed

    async def second() -> signatures.SignedDocument:
        async with db.transaction() as connection:
            second_pid.append(await connection.fetchval("SELECT pg_backend_pid()"))
            await first_made.wait()
            return await signing_keys.sign_for_doctor(
                connection, doctor_id, PRESCRIPTION, sealer=sealer_of(app), context=SYSTEM
            )

    try:
        one, two = await asyncio.gather(first(), second())
    finally:
        await owner.close()
    assert one.key_id == two.key_id
    assert len(await key_rows(app, doctor_id)) == 1
    actions = await audit_actions(app, str(doctor_id))
    assert actions.count(signing_keys.KEY_CREATED) == 1


async def test_many_first_uses_at_once_make_one_key(app: Litestar, sign_up: Any) -> None:
    doctor_id = await approved_before_keys(app, sign_up)

    async def first_use() -> str:
        async with app.state.services.db.transaction() as connection:
            key = await signing_keys.signing_key_for(
                connection, doctor_id, sealer=sealer_of(app), context=SYSTEM
            )
            return key.key_id

    key_ids = await asyncio.gather(*(first_use() for _ in range(8)))
    assert len(set(key_ids)) == 1
    assert [row["key_id"] for row in await key_rows(app, doctor_id)] == key_ids[:1]


async def test_a_suspended_doctor_keeps_the_key_and_signs_no_more(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    doctor = await approved_doctor(app)
    signed = await sign(app, doctor.doctor_id)
    suspended = await client.post(
        f"/api/onboarding/doctors/{doctor.doctor_id}/suspend",
        headers=operator.headers,
        json={"reason": "投诉核查中"},
    )
    assert suspended.status_code == 200, suspended.text
    with pytest.raises(DoctorCannotSign) as refused:
        await sign(app, doctor.doctor_id)
    assert refused.value.status == 409 and refused.value.extra["status_now"] == "suspended"
    [key] = await key_rows(app, doctor.doctor_id)
    assert key["retired_at"] is None  # kept: what it signed stays valid
    verdict = await signing_keys.verify_signed(app.state.services.db, signed)
    assert verdict.valid and verdict.doctor_id == uuid.UUID(doctor.doctor_id)


async def test_reinstatement_keeps_the_key_the_doctor_had(
    app: Litestar, client: httpx.AsyncClient, operator: Account
) -> None:
    doctor = await approved_doctor(app)
    [before] = await key_rows(app, doctor.doctor_id)
    for action in ("suspend", "reinstate"):
        decided = await decide(client, operator, doctor, action)
        assert decided.status_code == 200, decided.text
    [after] = await key_rows(app, doctor.doctor_id)
    assert after["key_id"] == before["key_id"]
    assert (await sign(app, doctor.doctor_id)).key_id == before["key_id"]


async def test_a_doctor_never_approved_gets_no_key_and_signs_nothing(app: Litestar) -> None:
    doctor = await draft_doctor(app, await hospital_with_demo_adapter(app))
    with pytest.raises(DoctorCannotSign) as refused:
        await sign(app, doctor.doctor_id)
    assert refused.value.extra["status_now"] == "draft"
    async with app.state.services.db.transaction() as connection:
        with pytest.raises(DoctorCannotSign):
            await signing_keys.signing_key_for(
                connection, uuid.UUID(doctor.doctor_id), sealer=sealer_of(app), context=SYSTEM
            )
    assert await key_rows(app, doctor.doctor_id) == []
    with pytest.raises(NotFound):
        await sign(app, uuid.uuid4())


async def test_a_document_without_a_canonical_form_is_refused_naming_the_member(
    app: Litestar, sign_up: Any
) -> None:
    doctor_id = await approved_before_keys(app, sign_up)
    with pytest.raises(InvalidInput) as refused:
        await sign(app, doctor_id, {"items": [{"dose": 0.5}]})
    assert refused.value.errors[0].field == "document.items[0].dose"
    assert await key_rows(app, doctor_id) == []  # refused before a key was made for it


async def test_a_key_sealed_under_another_secret_key_is_a_clear_503(
    app: Litestar, sign_up: Any
) -> None:
    doctor_id = await approved_before_keys(app, sign_up)
    async with app.state.services.db.transaction() as connection:
        await signing_keys.signing_key_for(
            connection, doctor_id, sealer=Sealer("another-secret-key-" + "x" * 32), context=SYSTEM
        )
    with pytest.raises(SigningKeyUnreadable) as refused:
        await sign(app, doctor_id)
    assert refused.value.status == 503
    assert "MEDMARKET_SECRET_KEY" in refused.value.detail


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE doctor_signing_keys SET public_key = public_key WHERE doctor_id = $1",
        "UPDATE doctor_signing_keys SET private_key_sealed = 'sealed:v1:x' WHERE doctor_id = $1",
        "DELETE FROM doctor_signing_keys WHERE doctor_id = $1",
    ],
)
async def test_a_key_is_never_changed_nor_deleted(
    app: Litestar, database_url: str, statement: str
) -> None:
    doctor = await approved_doctor(app)
    doctor_id = uuid.UUID(doctor.doctor_id)
    async with app.state.services.db.connection() as connection:  # the application's role
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(statement, doctor_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("TRUNCATE doctor_signing_keys")
    owner = await asyncpg.connect(database_url)  # the owner is stopped by the trigger
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute(statement, doctor_id)
    finally:
        await owner.close()


async def test_a_key_is_retired_once_and_the_doctor_may_have_a_new_one(
    app: Litestar, sign_up: Any
) -> None:
    doctor_id = await approved_before_keys(app, sign_up)
    old = await sign(app, doctor_id)
    db = app.state.services.db
    retire = "UPDATE doctor_signing_keys SET retired_at = now() WHERE key_id = $1"
    await db.execute(retire, old.key_id)  # the one change the application may make
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute(retire, old.key_id)  # retired for good
    new = await sign(app, doctor_id)
    assert new.key_id != old.key_id
    for envelope in (old, new):  # what the retired key signed stays valid
        assert (await signing_keys.verify_signed(db, envelope)).valid
    listed = await signing_keys.public_keys(db, doctor_id)
    assert [k.key_id for k in listed.keys] == [old.key_id, new.key_id]
    assert listed.keys[0].retired_at is not None and listed.keys[1].retired_at is None
