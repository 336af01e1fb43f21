"""Random credentials and their digests: API keys, session ids, CSRF tokens.

All are 32 random bytes, so a plain or keyed SHA-256 digest is enough at rest (there is nothing
to brute-force, unlike a password). Session ids are kept as an HMAC under the session secret:
a copy of the database alone opens no session, and a new secret ends them all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

KEY_PREFIX = "ssk"
_KEY = re.compile(r"ssk_([0-9a-f]{16})_([A-Za-z0-9_\-]{43})")


def new_api_key() -> tuple[str, str]:
    """A fresh key: (its public id, the whole key to hand over once)."""
    key_id = secrets.token_hex(8)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(key: str) -> str | None:
    """The id part of a well-formed API key, else None."""
    match = _KEY.fullmatch(key)
    return match.group(1) if match else None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def keyed(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``secret``, separated by ``purpose``."""
    message = f"{purpose}\x1f{value}".encode("utf-8", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))
