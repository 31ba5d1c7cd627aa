"""Access and refresh tokens: JWTs (HS256) signed with a key every replica shares.

The key lives in the host cluster (Secret ``kube-system/atoll-token-signing``, made at
first start), so any replica verifies what another issued and the server keeps no state
of its own. An access token lives two hours, a refresh token a day (KubeSphere's
defaults); each says which it is (``typ``), so one cannot stand in for the other.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from atoll.errors import AlreadyExists, NotFound
from atoll.kube.client import KubeClient, ResourceType

__all__ = [
    "ACCESS_TTL",
    "REFRESH_TTL",
    "InvalidToken",
    "TokenIssuer",
    "load_or_create_signing_key",
]

SECRETS = ResourceType("", "v1", "secrets", "Secret", True)
KEY_SECRET = ("kube-system", "atoll-token-signing")
ACCESS_TTL = 2 * 3600
REFRESH_TTL = 24 * 3600
ISSUER = "atoll"
Kind = Literal["access", "refresh"]


class InvalidToken(Exception):
    """Not a token this Atoll issued, expired, or of the other kind."""


@dataclass(frozen=True)
class TokenIssuer:
    key: bytes

    def issue(self, username: str, kind: Kind, *, ttl: int | None = None) -> str:
        now = int(time.time())
        if ttl is None:
            ttl = ACCESS_TTL if kind == "access" else REFRESH_TTL
        claims = {
            "iss": ISSUER,
            "sub": username,
            "typ": kind,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm="HS256")

    def verify(self, token: str, kind: Kind) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "typ"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None
        if claims.get("typ") != kind:
            raise InvalidToken(f"a {claims.get('typ')} token, not a {kind} token")
        return claims


async def load_or_create_signing_key(client: KubeClient) -> bytes:
    namespace, name = KEY_SECRET
    with contextlib.suppress(NotFound):
        found = await client.get(SECRETS, name, namespace=namespace)
        return base64.b64decode(found["data"]["key"])
    key = secrets.token_bytes(32)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {"key": base64.b64encode(key).decode()},
    }
    try:
        await client.create(SECRETS, secret)
    except AlreadyExists:  # another replica made it first: use that one
        found = await client.get(SECRETS, name, namespace=namespace)
        return base64.b64decode(found["data"]["key"])
    return key
