"""argon2id password hashes and the rules a new password must meet."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from medmarket.settings import Settings

MIN_LENGTH = 10
MAX_LENGTH = 256
# The most common passwords of leaked lists that satisfy the length rule; refusing them
# stops the first guesses of any online attack.
_COMMON = frozenset(
    {
        "1234567890",
        "12345678910",
        "123456789a",
        "1qaz2wsx3edc",
        "qwertyuiop",
        "password123",
        "password1!",
        "iloveyou12",
        "a123456789",
        "abc1234567",
        "woaini1314",
        "5201314520",
        "aa12345678",
        "qwerty1234",
        "1q2w3e4r5t",
        "zxcvbnm123",
        "0123456789",
        "11111111111",
        "passw0rd123",
        "welcome123",
        "admin12345",
        "abcd123456",
        "12345qwert",
    }
)


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` is too weak, in words a person can act on; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    if len(set(password)) < 5:
        return "use more different characters"
    lowered = password.lower()
    if lowered in _COMMON:
        return "this password is among the most common ones; choose another"
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        return "do not build the password from your e-mail address"
    return None


class Passwords:
    """Hashing is deliberately slow, so it runs in a thread and does not stall the loop."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_kib,
            parallelism=1,
        )
        # Verified against when an account does not exist, so timing does not reveal it.
        self._decoy = self._hasher.hash("decoy password that no account has")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._decoy, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check) and password_hash is not None
