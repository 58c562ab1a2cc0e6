"""Anyone checks what a doctor signed, without signing in: the doctor's public keys, and an
answer to "is this envelope valid, and whose is it?" that never fails with a 500."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from litestar import Litestar

from medmarket import signatures
from medmarket.audit.service import SYSTEM
from medmarket.doctors import signing_keys
from medmarket.errors import PROBLEM_JSON
from medmarket.sealed import Sealer
from medmarket.tests.support.factories import (
    DoctorAccount,
    approved_doctor,
    draft_doctor,
    hospital_with_demo_adapter,
)

PRESCRIPTION = {
    "prescription_id": "rx-1",
    "items": [{"drug": "布洛芬缓释胶囊", "strength": "0.3 g", "dose": "1", "times_a_day": 2}],
}


async def signed_by(app: Litestar, doctor: DoctorAccount, document: Any = PRESCRIPTION) -> Any:
    async with app.state.services.db.transaction() as connection:
        envelope = await signing_keys.sign_for_doctor(
            connection,
            uuid.UUID(doctor.doctor_id),
            document,
            sealer=Sealer(app.state.settings.secret_key),
            context=SYSTEM,
        )
    return json.loads(signatures.encode(envelope))


@pytest.fixture(scope="module")
async def doctor(app: Litestar) -> DoctorAccount:
    return await approved_doctor(app, full_name="孙思邈")


@pytest.fixture(scope="module")
async def envelope(app: Litestar, doctor: DoctorAccount) -> dict[str, Any]:
    return await signed_by(app, doctor)  # type: ignore[no-any-return]


async def verify(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    if isinstance(body, dict):
        return await client.post("/api/signatures/verify", json=body)
    return await client.post(
        "/api/signatures/verify", content=body, headers={"Content-Type": "application/json"}
    )


async def test_anyone_reads_a_doctors_public_keys(
    client: httpx.AsyncClient, doctor: DoctorAccount, envelope: dict[str, Any]
) -> None:
    response = await client.get(f"/api/doctors/{doctor.doctor_id}/signing-keys")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["doctor_id"], body["doctor_name"]) == (doctor.doctor_id, "孙思邈")
    [key] = body["keys"]
    assert key["key_id"] == envelope["key_id"]
    assert key["algorithm"] == "Ed25519" and key["retired_at"] is None
    raw = signatures.from_b64url(key["public_key"], 32, "public_key")
    assert signatures.key_id(raw) == key["key_id"]
    pem = serialization.load_pem_public_key(key["public_key_pem"].encode())
    assert pem.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw
    assert "sealed" not in response.text and "private" not in response.text


async def test_a_doctor_never_approved_has_no_keys_to_show(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    draft = await draft_doctor(app, await hospital_with_demo_adapter(app))
    for doctor_id in (draft.doctor_id, str(uuid.uuid4())):
        response = await client.get(f"/api/doctors/{doctor_id}/signing-keys")
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["detail"] == "no such doctor"  # the same for both


async def test_a_signed_document_verifies_with_its_doctor_named(
    client: httpx.AsyncClient, doctor: DoctorAccount, envelope: dict[str, Any]
) -> None:
    # rewritten in another key order and spacing: the canonical form is what counts
    rewritten = json.dumps(
        {**envelope, "document": dict(reversed(list(envelope["document"].items())))}, indent=2
    )
    response = await verify(client, rewritten.encode())
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["valid"] is True
    assert verdict["doctor_id"] == doctor.doctor_id and verdict["doctor_name"] == "孙思邈"
    assert verdict["key_id"] == envelope["key_id"] and verdict["key_retired_at"] is None
    assert verdict["reason"] is None


async def test_a_changed_dose_is_a_bad_signature(
    client: httpx.AsyncClient, envelope: dict[str, Any]
) -> None:
    tampered = json.loads(json.dumps(envelope))
    tampered["document"]["items"][0]["dose"] = "10"
    verdict = (await verify(client, tampered)).json()
    assert verdict["valid"] is False and verdict["reason"] == "bad-signature"
    assert verdict["doctor_id"] is None and verdict["doctor_name"] is None


async def test_a_changed_signature_is_a_bad_signature(
    client: httpx.AsyncClient, envelope: dict[str, Any]
) -> None:
    raw = bytearray(signatures.from_b64url(envelope["signature"], 64, "signature"))
    raw[10] ^= 0x01
    verdict = (
        await verify(client, {**envelope, "signature": signatures.b64url(bytes(raw))})
    ).json()
    assert verdict["valid"] is False and verdict["reason"] == "bad-signature"


async def test_a_key_no_doctor_has_is_unknown(
    client: httpx.AsyncClient, envelope: dict[str, Any]
) -> None:
    stranger = signatures.signed(envelope["document"], signatures.generate_keypair())
    response = await verify(client, json.loads(signatures.encode(stranger)))
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["valid"] is False and verdict["reason"] == "unknown-key"
    assert verdict["key_id"] == stranger.key_id and verdict["detail"]


async def test_what_a_suspended_doctor_signed_stays_valid(
    app: Litestar, client: httpx.AsyncClient, operator: Any
) -> None:
    doctor = await approved_doctor(app)
    envelope = await signed_by(app, doctor)
    suspended = await client.post(
        f"/api/onboarding/doctors/{doctor.doctor_id}/suspend",
        headers=operator.headers,
        json={"reason": "执业资格复核"},
    )
    assert suspended.status_code == 200, suspended.text
    assert (await verify(client, envelope)).json()["valid"] is True
    keys = await client.get(f"/api/doctors/{doctor.doctor_id}/signing-keys")
    assert [key["key_id"] for key in keys.json()["keys"]] == [envelope["key_id"]]


def _with(envelope: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**envelope, **changes}


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        (lambda e: {k: v for k, v in e.items() if k != "signature"}, 422, "signature"),
        (lambda e: _with(e, algorithm="RS256"), 422, "algorithm"),
        (lambda e: _with(e, canonicalization="none"), 422, "canonicalization"),
        (lambda e: _with(e, key_id="short"), 422, "key_id"),
        (lambda e: _with(e, signature="*" * 86), 422, "signature"),
        (lambda e: _with(e, document=["not", "an", "object"]), 422, "document"),
        (lambda e: _with(e, extra="member"), 422, "extra"),
        (
            lambda e: _with(e, document={**e["document"], "dose": 0.5}),
            422,
            "document.dose",
        ),
        (
            lambda e: _with(e, document={"big": 2**60}),
            422,
            "document.big",
        ),
    ],
)
async def test_an_envelope_that_cannot_be_read_is_a_problem_naming_the_field(
    client: httpx.AsyncClient,
    envelope: dict[str, Any],
    change: Any,
    status: int,
    field: str,
) -> None:
    response = await verify(client, change(envelope))
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert field in {error["field"] for error in problem["errors"]}, problem
    assert response.status_code == status, problem


async def test_a_member_name_twice_is_refused(
    client: httpx.AsyncClient, envelope: dict[str, Any]
) -> None:
    # Signed with dose "1"; a reader keeping the first "dose" would show "10".
    text = signatures.encode(signatures.decode(json.dumps(envelope))).decode()
    doubled = text.replace('"dose":"1"', '"dose":"10","dose":"1"')
    assert doubled != text
    response = await verify(client, doubled.encode())
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "body" and "'dose'" in problem["detail"]


async def test_a_signature_spelt_another_way_is_refused(
    client: httpx.AsyncClient, envelope: dict[str, Any]
) -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = envelope["signature"][-1]
    respelled = envelope["signature"][:-1] + alphabet[alphabet.index(last) ^ 1]
    response = await verify(client, _with(envelope, signature=respelled))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "signature"


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"document": {"a": NaN}}', b"{"])
async def test_unreadable_bodies_are_problems_not_errors(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await verify(client, body)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == PROBLEM_JSON
