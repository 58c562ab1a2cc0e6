"""Signed documents: Ed25519 signatures over a canonical form of a JSON document, which
anyone can check with the signer's public key and any Ed25519 library
(docs/signatures.md gives the recipe).

The canonical form, the bytes that are signed:

- The document is a JSON object. Its values are objects, arrays, strings, integers from
  -(2^53 - 1) to 2^53 - 1, ``true``, ``false`` and ``null``. There are no fractions or
  exponents: a decimal (a dose, a concentration) is a string such as ``"0.5"``, money an
  integer count of fen. No object repeats a member name (I-JSON, RFC 7493).
- It is serialised by the JSON Canonicalization Scheme, RFC 8785: no whitespace; each
  object's members sorted by name, names compared as sequences of UTF-16 code units;
  strings in UTF-8 with only ``"``, ``\\`` and the control characters below U+0020
  escaped (``\\b \\t \\n \\f \\r`` as such, the others as ``\\u00xx`` in lower-case hex),
  everything else (Chinese, ``/``) as it is; integers in decimal, without ``+`` or leading
  zeros. The document's own key order and spacing therefore never matter.

The signature is pure Ed25519 (RFC 8032: no pre-hash, no context) over those bytes: 64
bytes, written in base64url without padding (86 characters). A public key is the 32 raw
bytes of RFC 8032; its key id is the base64url, without padding, of the first 16 bytes of
the SHA-256 of those 32 bytes (22 characters).

A signed document travels as an envelope (``SignedDocument``)::

    {"document": {...}, "signature": "<86 chars>", "key_id": "<22 chars>",
     "algorithm": "Ed25519", "canonicalization": "RFC8785"}

This module knows nothing of who signs; ``doctors.signing_keys`` keeps doctors' keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import msgspec
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM: Final = "Ed25519"
CANONICALIZATION: Final = "RFC8785"
KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
KEY_ID_BYTES: Final = 16
LARGEST_INTEGER: Final = 2**53 - 1  # what every JSON reader holds exactly (an IEEE double)

_B64URL = "[A-Za-z0-9_-]"
SIGNATURE_PATTERN: Final = f"^{_B64URL}{{86}}$"
KEY_ID_PATTERN: Final = f"^{_B64URL}{{22}}$"
PUBLIC_KEY_PATTERN: Final = f"^{_B64URL}{{43}}$"


class NotCanonical(ValueError):
    """A document, or a part of an envelope, that has no canonical form: ``field`` names
    where (``document.items[0].dose``), the message says why in words a caller can act on."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# -- the canonical form --------------------------------------------------------------------------
def _check(value: object, path: str) -> None:
    """Refuse what the canonical form leaves out, naming where it is."""
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if not -LARGEST_INTEGER <= value <= LARGEST_INTEGER:
            raise NotCanonical(path, f"integers are within ±{LARGEST_INTEGER}; write it as text")
        return
    if isinstance(value, float):
        raise NotCanonical(path, 'numbers are integers; write a decimal as text, such as "0.5"')
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for name, item in value.items():
            if not isinstance(name, str):
                raise NotCanonical(path, "member names are text")
            _check(item, f"{path}.{name}")
        return
    raise NotCanonical(path, f"{type(value).__name__} is no JSON value")


def canonical_form(document: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: ``document`` in RFC 8785's serialisation. Raises
    NotCanonical (naming the member) for a float, a too large integer, a non-JSON value or a
    string that is not Unicode text (a lone surrogate)."""
    if not isinstance(document, Mapping):
        raise NotCanonical("document", "a signed document is a JSON object")
    try:
        _check(document, "document")
        return rfc8785.dumps(dict(document))
    except rfc8785.CanonicalizationError as exc:
        raise NotCanonical("document", str(exc)) from None
    except RecursionError:
        raise NotCanonical("document", "the document is nested too deeply") from None


# -- keys --------------------------------------------------------------------------------------
def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def from_b64url(text: str, size: int, field: str) -> bytes:
    """Exactly ``size`` bytes from base64url without padding; only the one spelling of them
    (the unused low bits of the last character are zero), so no two texts name one value."""
    if not re.fullmatch(f"{_B64URL}*", text):
        raise NotCanonical(field, "use base64url (A-Z a-z 0-9 - _) without '=' padding")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise NotCanonical(field, "this is no base64url text") from None
    if len(raw) != size or b64url(raw) != text:
        raise NotCanonical(field, f"expected {size} bytes in base64url without padding")
    return raw


@dataclass(frozen=True, repr=False)
class KeyPair:
    """Raw Ed25519 keys (RFC 8032): the 32-byte private seed and the 32-byte public key."""

    private_key: bytes
    public_key: bytes

    def __repr__(self) -> str:  # never the private key in a log or a traceback
        return f"KeyPair(key_id={key_id(self.public_key)!r})"


def generate_keypair() -> KeyPair:
    private = Ed25519PrivateKey.generate()
    return KeyPair(
        private_key=private.private_bytes_raw(), public_key=private.public_key().public_bytes_raw()
    )


def key_id(public_key: bytes) -> str:
    """The key's name: base64url of the first 16 bytes of SHA-256 of the raw public key."""
    if len(public_key) != KEY_BYTES:
        raise ValueError(f"an Ed25519 public key has {KEY_BYTES} bytes")
    return b64url(hashlib.sha256(public_key).digest()[:KEY_ID_BYTES])


def public_key_pem(public_key: bytes) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), as openssl reads it."""
    return (
        Ed25519PublicKey.from_public_bytes(public_key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def read_public_key(text: str) -> bytes:
    """The raw public key from PEM (SubjectPublicKeyInfo) or from base64url of its 32 bytes.
    Raises NotCanonical (field ``public_key``) for anything else."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        try:
            loaded = serialization.load_pem_public_key(stripped.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise NotCanonical("public_key", "this PEM holds no public key") from None
        if not isinstance(loaded, Ed25519PublicKey):
            raise NotCanonical("public_key", "this PEM holds a key of another kind than Ed25519")
        return loaded.public_bytes_raw()
    return from_b64url(stripped, KEY_BYTES, "public_key")


# -- signing and verifying ---------------------------------------------------------------------
def sign(document: Mapping[str, Any], private_key: bytes) -> bytes:
    """The 64-byte Ed25519 signature of the document's canonical form."""
    return Ed25519PrivateKey.from_private_bytes(private_key).sign(canonical_form(document))


def verify_canonical(canonical: bytes, signature: bytes, public_key: bytes) -> bool:
    """Whether ``signature`` is the signature of exactly these bytes under ``public_key``."""
    if len(signature) != SIGNATURE_BYTES or len(public_key) != KEY_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, canonical)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(document: Mapping[str, Any], signature: bytes, public_key: bytes) -> bool:
    """Whether ``signature`` signs this document. A document without a canonical form was
    never signed here, so it raises NotCanonical rather than answer False."""
    return verify_canonical(canonical_form(document), signature, public_key)


# -- the envelope ------------------------------------------------------------------------------
class SignedDocument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A document with its signature and the name of the key that made it."""

    document: dict[str, Any]
    # Ed25519 over the canonical form of ``document``, base64url without padding.
    signature: Annotated[str, msgspec.Meta(pattern=SIGNATURE_PATTERN)]
    key_id: Annotated[str, msgspec.Meta(pattern=KEY_ID_PATTERN)]
    algorithm: Literal["Ed25519"]
    canonicalization: Literal["RFC8785"]

    def signature_bytes(self) -> bytes:
        return from_b64url(self.signature, SIGNATURE_BYTES, "signature")


def signed(document: Mapping[str, Any], keys: KeyPair) -> SignedDocument:
    """The document in an envelope with its signature. The envelope holds a copy read back
    from the very bytes signed, so nothing the caller changes afterwards reaches it."""
    canonical = canonical_form(document)
    private = Ed25519PrivateKey.from_private_bytes(keys.private_key)
    return SignedDocument(
        document=msgspec.json.decode(canonical),
        signature=b64url(private.sign(canonical)),
        key_id=key_id(keys.public_key),
        algorithm=ALGORITHM,
        canonicalization=CANONICALIZATION,
    )


def verify_envelope(envelope: SignedDocument, public_key: bytes) -> bool:
    """Whether the envelope was signed with this key: its key id names the key and its
    signature signs its document. Raises NotCanonical as ``verify`` does."""
    if envelope.key_id != key_id(public_key):
        return False
    return verify(envelope.document, envelope.signature_bytes(), public_key)


_ENCODER = msgspec.json.Encoder()


def encode(envelope: SignedDocument) -> bytes:
    """The envelope as JSON (its document in any key order: the signature covers the
    canonical form, not these bytes)."""
    return _ENCODER.encode(envelope)


def _no_repeated_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        repeated = ""
        for name, _ in pairs:
            if name in seen:
                repeated = name
                break
            seen.add(name)
        raise NotCanonical(
            "body",
            f"the member name {repeated!r} appears twice in one object; readers disagree on "
            "which value it has",
        )
    return members


def _no_constants(text: str) -> Any:
    raise NotCanonical("document", f"{text} is no JSON number")


def decode(data: bytes | str) -> SignedDocument:
    """An envelope read strictly: JSON without repeated member names (which two readers
    could take differently, one shown and another verified), NaN or Infinity, and of the
    envelope's shape. Raises NotCanonical naming the field."""
    try:
        parsed = json.loads(
            data, object_pairs_hook=_no_repeated_names, parse_constant=_no_constants
        )
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotCanonical("body", f"this is no JSON text: {exc}") from None
    except RecursionError:
        raise NotCanonical("document", "the document is nested too deeply") from None
    try:
        return msgspec.convert(parsed, SignedDocument, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = re.search(r"at `\$\.(\w+)", message) or re.search(r"field `(\w+)`", message)
        raise NotCanonical(found[1] if found else "body", message) from None
