"""Tokens: what one replica issues another verifies; nothing else passes."""

from __future__ import annotations

import jwt
import pytest

from atoll.components.iam.passwords import hash_password, verify_password
from atoll.components.iam.tokens import ACCESS_TTL, InvalidToken, TokenIssuer

KEY = b"k" * 32


def test_a_token_verifies_with_the_shared_key_as_its_own_kind() -> None:
    token = TokenIssuer(KEY).issue("alice", "access")
    claims = TokenIssuer(KEY).verify(token, "access")  # another replica, the same key
    assert claims["sub"] == "alice" and claims["exp"] - claims["iat"] == ACCESS_TTL
    with pytest.raises(InvalidToken, match="not a refresh token"):
        TokenIssuer(KEY).verify(token, "refresh")


def test_forged_tampered_and_expired_tokens_fail() -> None:
    issuer = TokenIssuer(KEY)
    with pytest.raises(InvalidToken):
        issuer.verify(TokenIssuer(b"x" * 32).issue("alice", "access"), "access")
    header, payload, signature = issuer.issue("alice", "access").split(".")
    with pytest.raises(InvalidToken):
        issuer.verify(f"{header}.{payload}.{signature[::-1]}", "access")
    expired = jwt.encode(
        {"iss": "atoll", "sub": "alice", "typ": "access", "iat": 1, "exp": 2}, KEY, "HS256"
    )
    with pytest.raises(InvalidToken, match="expired"):
        issuer.verify(expired, "access")
    unsigned = jwt.encode({"iss": "atoll", "sub": "alice", "typ": "access"}, "", "none")
    with pytest.raises(InvalidToken):
        issuer.verify(unsigned, "access")


def test_passwords_are_argon2id_and_checked() -> None:
    stored = hash_password("s3cret!")
    assert stored.startswith("$argon2id$") and "s3cret!" not in stored
    assert verify_password(stored, "s3cret!")
    assert not verify_password(stored, "s3cret")
    assert not verify_password("not a hash", "s3cret!")
