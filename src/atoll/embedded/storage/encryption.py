"""Encryption at rest for sensitive resources (Secrets), as Kubernetes' ``aesgcm`` provider does.

Values are sealed with AES-256-GCM under a key kept in ``<data-dir>/encryption.key``
(created on first start, mode 0600). The storage key is bound as associated data, so a
sealed value copied onto another object's row fails to open. A versioned prefix marks
sealed values, which lets plain rows written before encryption was enabled still load.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["Sealer", "load_or_create_key"]

_PREFIX = b"k8s:enc:aesgcm:v1:atoll:"
_NONCE_BYTES = 12


def load_or_create_key(path: Path) -> bytes:
    """Read the 32-byte key, creating it (0600) on first use."""
    if path.exists():
        key = path.read_bytes()
        if len(key) != 32:
            raise ValueError(f"{path} must hold exactly 32 bytes, found {len(key)}")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    return key


class Sealer:
    """Seals and opens stored values; ``key`` is the storage row key used as associated data."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, value: bytes, *, key: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _PREFIX + nonce + self._aead.encrypt(nonce, value, key.encode())

    def open(self, value: bytes, *, key: str) -> bytes:
        if not value.startswith(_PREFIX):
            return value
        body = value[len(_PREFIX) :]
        return self._aead.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], key.encode())
