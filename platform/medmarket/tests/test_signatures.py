"""Signed documents: the canonical form is RFC 8785's (its own examples), the signature is
RFC 8032's Ed25519 (its own vector), a changed byte anywhere fails, and the way a document
was written (key order, spacing, escapes) never changes what is signed."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from medmarket import signatures
from medmarket.signatures import LARGEST_INTEGER, KeyPair, NotCanonical, SignedDocument

KEYS = signatures.generate_keypair()

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-LARGEST_INTEGER, max_value=LARGEST_INTEGER)
    | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=16,
)
documents = st.dictionaries(texts, json_values, max_size=6)

PRESCRIPTION = {
    "prescription_id": "4f1c7b1e-7d8b-4a43-9a59-1f1c3b2a9e10",
    "patient": {"name": "李娜", "age_years": 34},
    "items": [{"drug": "阿莫西林胶囊", "strength": "0.25 g", "dose": "0.5", "times_a_day": 3}],
    "notes": "饭后服用 / after meals",
    "repeats": None,
    "urgent": False,
}


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's members in another order."""
    if isinstance(value, dict):
        members = list(value.items())
        rng.shuffle(members)
        return {name: shuffled(item, rng) for name, item in members}
    if isinstance(value, list):
        return [shuffled(item, rng) for item in value]
    return value


# -- RFC 8785's own examples -----------------------------------------------------------------
def test_members_are_sorted_by_utf16_code_units_as_rfc_8785_sorts_them() -> None:
    # RFC 8785, 3.2.3: the emoji (U+1F600, D83D DE00 in UTF-16) sorts before U+FB33.
    document = json.loads(
        r"""{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"""
    )
    names = list(json.loads(signatures.canonical_form(document)))
    assert names == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


RFC_EXAMPLE = r"""{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""


def test_strings_and_literals_are_written_as_rfc_8785_writes_them() -> None:
    # RFC 8785, 3.2.4, without its numbers: documents here carry decimals as text.
    document = json.loads(RFC_EXAMPLE)
    del document["numbers"]
    canonical = signatures.canonical_form(document)
    assert canonical == (
        b'{"literals":[null,true,false],"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )


def test_the_library_under_the_canonical_form_passes_rfc_8785s_full_example() -> None:
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert rfc8785.dumps(json.loads(RFC_EXAMPLE)) == expected.encode()


def test_a_signature_is_pure_ed25519_as_rfc_8032_defines_it() -> None:
    # RFC 8032, 7.1, TEST 1 (the empty message).
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    expected = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert signatures.verify_canonical(b"", expected, public)
    # and over a document, the signature is that of its canonical form, nothing else
    document = {"b": 1, "a": "x"}
    signature = signatures.sign(document, secret)
    assert signatures.verify_canonical(b'{"a":"x","b":1}', signature, public)


# -- what has no canonical form ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"dose": 0.5}, "document.dose"),
        ({"items": [{"dose": 1.0}]}, "document.items[0].dose"),
        ({"n": LARGEST_INTEGER + 1}, "document.n"),
        ({"n": -LARGEST_INTEGER - 1}, "document.n"),
        ({"when": b"bytes"}, "document.when"),
        ({"s": "\ud800"}, "document"),
        ({1: "one"}, "document"),
    ],
)
def test_what_has_no_canonical_form_is_refused_naming_where(
    document: dict[Any, Any], field: str
) -> None:
    with pytest.raises(NotCanonical) as refused:
        signatures.canonical_form(document)
    assert refused.value.field == field


def test_only_an_object_is_a_document() -> None:
    with pytest.raises(NotCanonical) as refused:
        signatures.canonical_form([1, 2])  # type: ignore[arg-type]
    assert refused.value.field == "document"


def test_the_largest_integers_every_reader_holds_are_kept() -> None:
    document = {"max": LARGEST_INTEGER, "min": -LARGEST_INTEGER}
    assert (
        signatures.canonical_form(document) == b'{"max":9007199254740991,"min":-9007199254740991}'
    )


# -- signing and verifying ---------------------------------------------------------------------
@given(documents)
def test_a_signed_document_verifies_and_travels_as_json(document: dict[str, Any]) -> None:
    envelope = signatures.signed(document, KEYS)
    assert envelope.key_id == signatures.key_id(KEYS.public_key)
    assert signatures.verify_envelope(envelope, KEYS.public_key)
    received = signatures.decode(signatures.encode(envelope))
    assert received == envelope
    assert signatures.verify_envelope(received, KEYS.public_key)


@given(documents, st.data())
def test_changing_any_byte_of_the_canonical_document_fails(
    document: dict[str, Any], data: st.DataObject
) -> None:
    canonical = signatures.canonical_form(document)
    signature = signatures.sign(document, KEYS.private_key)
    at = data.draw(st.integers(min_value=0, max_value=len(canonical) - 1), label="at")
    flip = data.draw(st.integers(min_value=1, max_value=255), label="flip")
    tampered = bytearray(canonical)
    tampered[at] ^= flip
    assert signatures.verify_canonical(canonical, signature, KEYS.public_key)
    assert not signatures.verify_canonical(bytes(tampered), signature, KEYS.public_key)


@given(documents, st.data())
def test_changing_any_byte_of_the_signature_fails(
    document: dict[str, Any], data: st.DataObject
) -> None:
    signature = bytearray(signatures.sign(document, KEYS.private_key))
    at = data.draw(st.integers(min_value=0, max_value=len(signature) - 1), label="at")
    signature[at] ^= data.draw(st.integers(min_value=1, max_value=255), label="flip")
    assert not signatures.verify(document, bytes(signature), KEYS.public_key)


@given(documents, texts, json_values)
def test_a_changed_document_fails(document: dict[str, Any], name: str, value: Any) -> None:
    signature = signatures.sign(document, KEYS.private_key)
    changed = {**document, name: value}
    if changed != document:
        assert not signatures.verify(changed, signature, KEYS.public_key)


def test_another_key_does_not_verify() -> None:
    envelope = signatures.signed(PRESCRIPTION, KEYS)
    other = signatures.generate_keypair()
    assert not signatures.verify(PRESCRIPTION, envelope.signature_bytes(), other.public_key)
    # nor does the right key under another key's name
    renamed = SignedDocument(
        document=envelope.document,
        signature=envelope.signature,
        key_id=signatures.key_id(other.public_key),
        algorithm="Ed25519",
        canonicalization="RFC8785",
    )
    assert not signatures.verify_envelope(renamed, KEYS.public_key)


@given(documents, st.randoms(use_true_random=False), st.sampled_from([None, 0, 2, "\t"]))
def test_key_order_spacing_and_escapes_do_not_change_the_canonical_form(
    document: dict[str, Any], rng: random.Random, indent: int | str | None
) -> None:
    written = json.dumps(shuffled(document, rng), indent=indent, ensure_ascii=rng.random() < 0.5)
    assert signatures.canonical_form(json.loads(written)) == signatures.canonical_form(document)


def test_an_envelope_verifies_however_its_document_was_written() -> None:
    envelope = signatures.signed(PRESCRIPTION, KEYS)
    rewritten = {
        "canonicalization": "RFC8785",
        "algorithm": "Ed25519",
        "key_id": envelope.key_id,
        "signature": envelope.signature,
        "document": shuffled(PRESCRIPTION, random.Random(7)),
    }
    text = json.dumps(rewritten, indent=4, ensure_ascii=True)
    assert signatures.verify_envelope(signatures.decode(text), KEYS.public_key)


# -- keys --------------------------------------------------------------------------------------
def test_a_key_id_is_the_start_of_the_public_keys_sha256() -> None:
    expected = base64.urlsafe_b64encode(hashlib.sha256(KEYS.public_key).digest()[:16])
    assert signatures.key_id(KEYS.public_key) == expected.decode().rstrip("=")
    assert len(signatures.key_id(KEYS.public_key)) == 22


def test_a_public_key_reads_from_pem_or_base64url() -> None:
    pem = signatures.public_key_pem(KEYS.public_key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert signatures.read_public_key(pem) == KEYS.public_key
    assert signatures.read_public_key(signatures.b64url(KEYS.public_key)) == KEYS.public_key
    loaded = serialization.load_pem_public_key(pem.encode())
    assert (
        loaded.public_bytes(  # what openssl and every library read
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        == KEYS.public_key
    )


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        signatures.b64url(b"\x01" * 31),
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    ],
)
def test_what_is_no_ed25519_public_key_is_refused(text: str) -> None:
    with pytest.raises(NotCanonical) as refused:
        signatures.read_public_key(text)
    assert refused.value.field == "public_key"


def test_a_key_pair_never_shows_its_private_key() -> None:
    keys = signatures.generate_keypair()
    assert isinstance(keys, KeyPair)
    shown = repr(keys) + str(keys)
    assert keys.private_key.hex() not in shown
    assert signatures.b64url(keys.private_key) not in shown


# -- reading envelopes -------------------------------------------------------------------------
def _envelope_text(**changes: Any) -> str:
    envelope: dict[str, Any] = json.loads(signatures.encode(signatures.signed(PRESCRIPTION, KEYS)))
    envelope.update(changes)
    return json.dumps(envelope, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("not json", "body"),
        ("[]", "body"),
        ('{"document": {"a": 1, "a": 2}}', "body"),  # which "a" was signed?
        ('{"document": {"dose": NaN}}', "document"),
        (_envelope_text(algorithm="RSA"), "algorithm"),
        (_envelope_text(canonicalization="JCS-ish"), "canonicalization"),
        (_envelope_text(signature="too short"), "signature"),
        (_envelope_text(key_id=None), "key_id"),
        (_envelope_text(document="text"), "document"),
        (_envelope_text(extra=1), "extra"),
        (json.dumps({"signature": "A" * 86}), "document"),
    ],
)
def test_an_envelope_is_read_strictly_naming_the_field(text: str, field: str) -> None:
    with pytest.raises(NotCanonical) as refused:
        signatures.decode(text)
    assert refused.value.field == field


def test_a_signature_has_one_spelling_only() -> None:
    envelope = signatures.signed(PRESCRIPTION, KEYS)
    last = envelope.signature[-1]
    # 86 characters carry 516 bits for 512: the last one's four spare bits are zero
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    other = alphabet[alphabet.index(last) ^ 1]
    respelled = signatures.decode(_envelope_text(signature=envelope.signature[:-1] + other))
    with pytest.raises(NotCanonical) as refused:
        respelled.signature_bytes()
    assert refused.value.field == "signature"


def test_a_deeply_nested_document_is_refused_not_crashed() -> None:
    text = '{"document": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    with pytest.raises(NotCanonical):
        signatures.decode(text)


# -- the page a pharmacy reads ------------------------------------------------------------------
DOCS_PAGE = Path(__file__).resolve().parents[3] / "docs" / "signatures.md"


def test_the_example_in_the_docs_verifies_as_the_docs_say() -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w*)\n(.*?)```", page, flags=re.DOTALL)
    pem = next(body for _, body in blocks if body.startswith("-----BEGIN PUBLIC KEY-----"))
    envelope = signatures.decode(next(body for kind, body in blocks if kind == "json"))
    canonical = next(body for kind, body in blocks if not kind and body.startswith('{"'))
    public_key = signatures.read_public_key(pem)
    assert signatures.b64url(public_key) in page
    assert signatures.canonical_form(envelope.document) == canonical.strip().encode()
    assert signatures.verify_envelope(envelope, public_key)


def test_the_python_recipe_in_the_docs_verifies_the_example(tmp_path: Path) -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    blocks = dict(re.findall(r"```(json|python)\n(.*?)```", page, flags=re.DOTALL))
    envelope_file = tmp_path / "prescription.json"
    envelope_file.write_text(blocks["json"], encoding="utf-8")
    pem = page[page.index("-----BEGIN PUBLIC KEY-----") : page.index("-----END PUBLIC KEY-----")]
    example_key = signatures.b64url(signatures.read_public_key(pem + "-----END PUBLIC KEY-----"))
    recipe = blocks["python"].replace('"prescription.json"', repr(str(envelope_file)))
    exec(recipe.replace("…the key's public_key…", example_key), {})  # noqa: S102 - our own page
    tampered = json.loads(blocks["json"])
    tampered["document"]["items"][0]["dose"] = "5"
    envelope_file.write_text(json.dumps(tampered), encoding="utf-8")
    with pytest.raises(InvalidSignature):
        exec(recipe.replace("…the key's public_key…", example_key), {})  # noqa: S102


def test_an_envelope_keeps_what_was_signed_whatever_the_caller_changes_after() -> None:
    document = {"items": [{"dose": "0.5"}]}
    envelope = signatures.signed(document, KEYS)
    document["items"][0]["dose"] = "5"
    assert envelope.document == {"items": [{"dose": "0.5"}]}
    assert signatures.verify_envelope(envelope, KEYS.public_key)
