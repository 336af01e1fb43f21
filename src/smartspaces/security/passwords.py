"""Password hashing with argon2id (the embedded default for local users).

Hashing is deliberately slow (argon2-cffi's RFC 9106 low-memory profile: 64 MiB, 3 passes), so
a stolen users table does not give the passwords away. An unknown user name costs the same
verification as a known one, so timing does not tell which names exist.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a password anybody has")


def verify_password(encoded: str | None, password: str) -> bool:
    """True if ``password`` matches ``encoded``; with no hash, spends the same time and fails."""
    try:
        return _HASHER.verify(encoded or _dummy_hash(), password) and encoded is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(encoded)


@cache
def shared_hash(password: str) -> str:
    """One hash per process for a password given to many accounts (the demo users): hashing
    it once keeps start-up fast."""
    return _HASHER.hash(password)
