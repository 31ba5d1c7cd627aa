"""Password hashes: argon2id (argon2-cffi's defaults, RFC 9106's second recommendation).

A stored password is always a hash, marked by the annotation ``iam.atoll.io/password-
encrypted: "true"`` on its User (as KubeSphere marks its own); plain text exists only in a
create or update request, until it is hashed.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["ENCRYPTED_ANNOTATION", "generate_password", "hash_password", "verify_password"]

ENCRYPTED_ANNOTATION = "iam.atoll.io/password-encrypted"
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A password for a generated admin account: 20 URL-safe characters."""
    return secrets.token_urlsafe(15)
