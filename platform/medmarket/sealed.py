"""Secrets at rest: what a plugin's stored configuration holds as a secret (a hospital
system's client secret or token) is kept in the database only sealed.

Sealing is Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key derived
from ``MEDMARKET_SECRET_KEY`` with HKDF. A value stored before sealing existed is read as
it is and sealed on its next save. Changing the secret key makes sealed values unreadable:
the hospital's admin enters them again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed:v1:"


class SealError(Exception):
    """A sealed value that this key cannot open (sealed under another secret key)."""


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


class Sealer:
    def __init__(self, secret_key: str) -> None:
        derived = HKDF(
            algorithm=SHA256(), length=32, salt=None, info=b"medmarket sealed values v1"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, value: str) -> str:
        if is_sealed(value):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode("ascii")

    def unseal(self, value: str) -> str:
        if not is_sealed(value):
            return value
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode("ascii")).decode()
        except InvalidToken:
            raise SealError("this value was sealed under another MEDMARKET_SECRET_KEY") from None
