"""Password hashes: argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

argon2-cffi's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes, 4 lanes) cost
about four times as much CPU per login, which on a 2-core machine alone takes a login past
its 150 ms target; OWASP's setting is the documented minimum for argon2id and keeps a login
in the tens of milliseconds. A hash carries its own parameters, so hashes made with other
ones still verify.

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
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


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
